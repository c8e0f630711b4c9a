import { MalformedTaskError, type TaskMessage } from '@q/core';
import { describe, expect, it } from 'vitest';
import { fixtureBytes, readFixture } from '../test/redis-test-context';
import { decodeTaskMessage, encodeTaskMessage } from './task-message-codec';

const everyField: TaskMessage = {
  type: 'email:send',
  payload: new TextEncoder().encode('{"to":"a@example.com"}'),
  id: 'task-1',
  queue: 'critical',
  maxRetry: 5,
  retried: 2,
  errorMessage: 'boom',
  timeoutSeconds: 90,
  deadlineUnixSeconds: 1_795_707_332,
  uniqueKey: 'asynq:{critical}:unique:email:send:abc',
  lastFailedAtUnixSeconds: 1_795_703_735,
  retentionSeconds: 7200,
  completedAtUnixSeconds: 1_795_703_764,
  groupKey: 'user42',
  headers: { tenant: 'acme' },
};

// Written by hand from the proto3 wire format: tag, length, value per field, in field-number order,
// with headers (field 15) last as Go writes them.
const fieldHex = {
  type: '0a0a656d61696c3a73656e64', // 1 type
  payload: '12167b22746f223a2261406578616d706c652e636f6d227d', // 2 payload
  id: '1a067461736b2d31', // 3 id
  queue: '2208637269746963616c', // 4 queue
  retry: '2805', // 5 retry
  retried: '3002', // 6 retried
  errorMessage: '3a04626f6f6d', // 7 error_msg
  timeout: '405a', // 8 timeout 90
  deadline: '48c4a3a1d806', // 9 deadline
  uniqueKey: '5226' + Buffer.from('asynq:{critical}:unique:email:send:abc').toString('hex'), // 10
  lastFailedAt: '58b787a1d806', // 11 last_failed_at
  retention: '60a038', // 12 retention 7200
  completedAt: '68d487a1d806', // 13 completed_at
  groupKey: '7206757365723432', // 14 group_key
  headers: '7a0e0a0674656e616e74120461636d65', // 15 headers {tenant: acme}
};
const everyFieldHex = Object.values(fieldHex).join('');

describe('TaskMessage encoding', () => {
  it('writes exactly the pinned bytes for a message with every field set', () => {
    expect(Buffer.from(encodeTaskMessage(everyField)).toString('hex')).toBe(everyFieldHex);
  });

  it('reads the pinned bytes back into the same message', () => {
    expect(decodeTaskMessage(Buffer.from(everyFieldHex, 'hex'))).toEqual(everyField);
  });

  it('leaves zero values out, as proto3 and Go do', () => {
    const minimal = { ...everyField, retried: 0, errorMessage: '', headers: {}, groupKey: '', uniqueKey: '' };
    const { retried, errorMessage, uniqueKey, groupKey, headers, ...kept } = fieldHex;
    expect([retried, errorMessage, uniqueKey, groupKey, headers]).toHaveLength(5);
    expect(Buffer.from(encodeTaskMessage(minimal)).toString('hex')).toBe(Object.values(kept).join(''));
  });

  it('rejects numbers the wire format cannot carry', () => {
    expect(() => encodeTaskMessage({ ...everyField, timeoutSeconds: 1.5 })).toThrow(MalformedTaskError);
    expect(() => encodeTaskMessage({ ...everyField, maxRetry: 2 ** 31 })).toThrow(MalformedTaskError);
  });

  it('throws MalformedTaskError for bytes that are not a TaskMessage', () => {
    expect(() => decodeTaskMessage(new Uint8Array([0x0a, 0xff, 0xff]))).toThrow(MalformedTaskError);
  });

  for (const version of ['asynq-v0.24.1', 'asynq-v0.26.0'] as const) {
    it(`re-encodes every msg Go Asynq ${version.slice(6)} wrote byte for byte`, () => {
      const names = [
        '01-pending',
        '02-scheduled-unique',
        '03-group',
        '04-retry',
        '05-archived-completed',
        '06-active-server',
        '07-after-shutdown-requeued',
        '08-scheduler',
      ];
      let checked = 0;
      for (const name of names) {
        for (const [key, entry] of Object.entries(readFixture(version, name))) {
          if (entry.type !== 'hash' || !key.includes(':t:')) continue;
          const original = fixtureBytes((entry.value as Record<string, unknown>).msg);
          const message = decodeTaskMessage(original);
          expect(message.id).toBe(key.slice(key.lastIndexOf(':t:') + 3));
          expect(Buffer.from(encodeTaskMessage(message)).toString('base64')).toBe(
            Buffer.from(original).toString('base64'),
          );
          checked += 1;
        }
      }
      expect(checked).toBeGreaterThanOrEqual(15);
    });
  }

  it('reads the fields Go wrote with their units', () => {
    const fixture = readFixture('asynq-v0.26.0', '01-pending');
    const pending = decodeTaskMessage(
      fixtureBytes((fixture['asynq:{default}:t:t-pending']!.value as Record<string, unknown>).msg),
    );
    expect(pending).toMatchObject({
      maxRetry: 5,
      timeoutSeconds: 90,
      retentionSeconds: 7200,
      queue: 'default',
    });
    const defaults = decodeTaskMessage(
      fixtureBytes((fixture['asynq:{default}:t:t-defaults']!.value as Record<string, unknown>).msg),
    );
    expect(defaults).toMatchObject({ maxRetry: 25, timeoutSeconds: 1800, deadlineUnixSeconds: 0 });
    const retry = readFixture('asynq-v0.26.0', '04-retry');
    const failed = decodeTaskMessage(
      fixtureBytes((retry['asynq:{default}:t:t-retry']!.value as Record<string, unknown>).msg),
    );
    expect(failed).toMatchObject({ retried: 1, maxRetry: 3 });
    expect(failed.errorMessage).toContain('deliberate failure');
    expect(failed.lastFailedAtUnixSeconds).toBeGreaterThan(1_700_000_000);
  });
});
