import { describe, expect, it } from 'vitest';
import { fixtureBytes, readFixture } from '../test/redis-test-context';
import { RedisKeys } from './redis-keys';

describe('RedisKeys', () => {
  const keys = new RedisKeys('asynq');
  const queue = keys.queue('critical');

  it('names every key as Go Asynq does', () => {
    expect(keys.queues).toBe('asynq:queues');
    expect(keys.servers).toBe('asynq:servers');
    expect(keys.workers).toBe('asynq:workers');
    expect(keys.schedulers).toBe('asynq:schedulers');
    expect(keys.cancel).toBe('asynq:cancel');
    expect(queue.task('t1')).toBe('asynq:{critical}:t:t1');
    expect(queue.pending).toBe('asynq:{critical}:pending');
    expect(queue.active).toBe('asynq:{critical}:active');
    expect(queue.lease).toBe('asynq:{critical}:lease');
    expect(queue.scheduled).toBe('asynq:{critical}:scheduled');
    expect(queue.retry).toBe('asynq:{critical}:retry');
    expect(queue.archived).toBe('asynq:{critical}:archived');
    expect(queue.completed).toBe('asynq:{critical}:completed');
    expect(queue.paused).toBe('asynq:{critical}:paused');
    expect(queue.processedTotal).toBe('asynq:{critical}:processed');
    expect(queue.failedTotal).toBe('asynq:{critical}:failed');
    expect(queue.processed(Date.UTC(2026, 10, 26, 23, 59))).toBe('asynq:{critical}:processed:2026-11-26');
    expect(queue.failed(Date.UTC(2026, 10, 27, 0, 0))).toBe('asynq:{critical}:failed:2026-11-27');
    expect(queue.groups).toBe('asynq:{critical}:groups');
    expect(queue.group('user42')).toBe('asynq:{critical}:g:user42');
    expect(queue.aggregationSet('user42', 'set-1')).toBe('asynq:{critical}:g:user42:set-1');
    expect(queue.aggregationSets).toBe('asynq:{critical}:aggregation_sets');
    expect(keys.serverInfo({ host: 'vm', pid: 7, id: 'abc' })).toBe('asynq:servers:{vm:7:abc}');
    expect(keys.workersOf({ host: 'vm', pid: 7, id: 'abc' })).toBe('asynq:workers:{vm:7:abc}');
    expect(keys.schedulerEntries({ host: 'vm', pid: 7, id: 'abc' })).toBe('asynq:schedulers:{vm:7:abc}');
    expect(keys.schedulerHistory('entry-1')).toBe('asynq:scheduler_history:entry-1');
  });

  it('computes the uniqueness lock key Go computed (md5 of the payload)', () => {
    const fixture = readFixture('asynq-v0.26.0', '02-scheduled-unique');
    const hash = fixture['asynq:{critical}:t:t-unique']!.value as Record<string, { text: string }>;
    expect(queue.unique('report:unique', new TextEncoder().encode('{"k":1}'))).toBe(hash.unique_key!.text);
    expect(fixture[hash.unique_key!.text]).toBeDefined();
    expect(fixtureBytes(fixture[hash.unique_key!.text]!.value)).toEqual(new TextEncoder().encode('t-unique'));
  });

  it('leaves the checksum out for an empty payload, as Go does for a nil one', () => {
    expect(queue.unique('ping', new Uint8Array(0))).toBe('asynq:{critical}:unique:ping:');
  });

  it('reads identities back from keys, hosts with colons included', () => {
    expect(RedisKeys.parseIdentity('asynq:schedulers:{vm:27143:0b6b-4148}')).toEqual({
      host: 'vm',
      pid: 27143,
      id: '0b6b-4148',
    });
    expect(RedisKeys.parseIdentity('asynq:servers:{fe80::1:12:id}')).toEqual({
      host: 'fe80::1',
      pid: 12,
      id: 'id',
    });
  });
});
