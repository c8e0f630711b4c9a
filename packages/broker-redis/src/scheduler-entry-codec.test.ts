import { fromBinary } from '@bufbuild/protobuf';
import type { SchedulerEntryState } from '@q/core';
import { describe, expect, it } from 'vitest';
import { fixtureBytes, readFixture, withMillisecondTimes } from '../test/redis-test-context';
import { SchedulerEnqueueEventSchema, SchedulerEntrySchema } from './gen/asynq_pb';
import {
  decodeSchedulerEnqueueEvent,
  decodeSchedulerEntry,
  encodeSchedulerEnqueueEvent,
  encodeSchedulerEntry,
} from './scheduler-entry-codec';

describe('SchedulerEntry and SchedulerEnqueueEvent', () => {
  for (const version of ['asynq-v0.24.1', 'asynq-v0.26.0'] as const) {
    it(`decodes what a Go Asynq ${version.slice(6)} scheduler wrote and re-encodes it byte for byte`, () => {
      const fixture = readFixture(version, '08-scheduler');
      const entriesKey = Object.keys(fixture).find((key) => key.startsWith('asynq:schedulers:{'))!;
      const [entryValue] = fixture[entriesKey]!.value as unknown[];
      const entryBytes = fixtureBytes(entryValue);
      const entry = decodeSchedulerEntry(entryBytes);
      expect(entry).toMatchObject({
        spec: '@every 2s',
        taskType: 'cron:tick',
        enqueueOptions: ['Queue("default")'],
      });
      expect(new TextDecoder().decode(entry.payload)).toBe('{"tick":true}');
      expect(entry.nextEnqueueAt).toBeGreaterThan(entry.previousEnqueueAt);
      // Go's times carry nanoseconds and ours milliseconds: equal once Go's are cut to milliseconds.
      expect(withMillisecondTimes(fromBinary(SchedulerEntrySchema, encodeSchedulerEntry(entry)))).toEqual(
        withMillisecondTimes(fromBinary(SchedulerEntrySchema, entryBytes)),
      );

      const historyKey = Object.keys(fixture).find((key) => key.startsWith('asynq:scheduler_history:'))!;
      expect(historyKey).toBe(`asynq:scheduler_history:${entry.id}`);
      const events = fixture[historyKey]!.value as { member: unknown; score: number }[];
      expect(events.length).toBeGreaterThan(0);
      for (const { member, score } of events) {
        const bytes = fixtureBytes(member);
        const event = decodeSchedulerEnqueueEvent(bytes);
        expect(Math.floor(event.enqueuedAt / 1000)).toBe(score);
        expect(fixture[`asynq:{default}:t:${event.taskId}`]).toBeDefined();
        expect(
          withMillisecondTimes(fromBinary(SchedulerEnqueueEventSchema, encodeSchedulerEnqueueEvent(event))),
        ).toEqual(withMillisecondTimes(fromBinary(SchedulerEnqueueEventSchema, bytes)));
      }
    });
  }

  it("writes Go's zero time for an entry that never ran and reads it back as 0", () => {
    const entry: SchedulerEntryState = {
      id: 'entry-1',
      spec: '*/5 * * * *',
      taskType: 'report:daily',
      payload: new Uint8Array(0),
      enqueueOptions: ['Queue("low")', 'MaxRetry(3)'],
      nextEnqueueAt: 1_795_704_000_000,
      previousEnqueueAt: 0,
    };
    const bytes = encodeSchedulerEntry(entry);
    // prev_enqueue_time (field 7) = { seconds: -62135596800 }: 3a 0b 08 80 92 b8 c3 98 fe ff ff ff 01.
    expect(Buffer.from(bytes).toString('hex')).toContain('3a0b08809' + '2b8c398feffffff01');
    expect(decodeSchedulerEntry(bytes)).toEqual(entry);
  });
});
