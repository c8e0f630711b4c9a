// The scheduler's timing decisions with a fake clock and an in-memory broker. What reaches Redis, and
// many processes at once, are tested against a real redis-server in ../test.
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { memoryBroker } from '../test/memory-scheduler-broker';
import { Scheduler, type TickEvent } from './scheduler';
import { tickTaskId } from './scheduler-entry';

const at = (iso: string): number => Date.parse(iso);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'Date'] });
});

afterEach(() => {
  vi.useRealTimers();
});

it('after a stall past several ticks, enqueues only the latest one', async () => {
  vi.setSystemTime(at('2026-01-01T00:00:00.500Z'));
  const { broker, tasks } = memoryBroker();
  const warnings: string[] = [];
  const logger = {
    debug: () => {},
    info: () => {},
    error: () => {},
    warn: (_: unknown, message?: string) => void warnings.push(message ?? ''),
  };
  const scheduler = new Scheduler({ broker, logger, duplicateWindow: '2s' });
  const id = scheduler.register('* * * * * *', { type: 'tick' }, { id: 'per-second' });
  await scheduler.start();

  vi.setSystemTime(at('2026-01-01T00:00:05.500Z')); // the event loop was blocked for five seconds
  await vi.advanceTimersByTimeAsync(600);
  expect([...tasks.keys()]).toEqual([tickTaskId(id, at('2026-01-01T00:00:06Z'))]);
  expect(warnings.some((message) => message.includes('stalled'))).toBe(true);

  await vi.advanceTimersByTimeAsync(1000);
  expect([...tasks.keys()]).toHaveLength(2);
  await scheduler.shutdown();
});

it.each([
  ['skip', []],
  ['once', ['late@2026-01-01T00:01:00Z']],
] as const)(
  'a tick noticed later than duplicateWindow follows the entry policy: %s',
  async (policy, expected) => {
    vi.setSystemTime(at('2026-01-01T00:00:30Z'));
    const { broker, tasks } = memoryBroker();
    const events: TickEvent[] = [];
    const scheduler = new Scheduler({
      broker,
      duplicateWindow: '2s',
      afterEnqueue: (event) => void events.push(event),
    });
    scheduler.register('* * * * *', { type: 'minutely' }, { id: 'late', missedTicks: policy });
    await scheduler.start();

    // The event loop is blocked for 40 s: the 00:01:00 timer fires at 00:01:40.
    vi.setSystemTime(at('2026-01-01T00:01:10Z'));
    await vi.advanceTimersByTimeAsync(30_000);
    expect([...tasks.keys()]).toEqual(expected);
    expect(events.map((event) => event.catchUp)).toEqual(expected.map(() => true));
    await scheduler.shutdown();
  },
);

it('publishes next and previous tick times, and a heartbeat every interval', async () => {
  vi.setSystemTime(at('2026-01-01T00:00:00.200Z'));
  const { broker, published } = memoryBroker();
  const scheduler = new Scheduler({ broker, heartbeatInterval: '10s' });
  scheduler.register('@every 2s', { type: 'every' }, { id: 'every' });
  await scheduler.start();
  expect(published[0]).toEqual([
    expect.objectContaining({ id: 'every', nextEnqueueAt: at('2026-01-01T00:00:02Z'), previousEnqueueAt: 0 }),
  ]);
  await vi.advanceTimersByTimeAsync(10_000);
  expect(published).toHaveLength(2);
  expect(published[1]).toEqual([
    expect.objectContaining({
      nextEnqueueAt: at('2026-01-01T00:00:12Z'),
      previousEnqueueAt: at('2026-01-01T00:00:10Z'),
    }),
  ]);
  await scheduler.shutdown();
});

it('does not enqueue a tick twice in one process when registered again after unregistering', async () => {
  vi.setSystemTime(at('2026-01-01T00:00:00.500Z'));
  const { broker, tasks } = memoryBroker();
  const scheduler = new Scheduler({ broker });
  scheduler.register('* * * * * *', { type: 'again' }, { id: 'again', missedTicks: 'once' });
  await scheduler.start();
  await vi.advanceTimersByTimeAsync(600);
  expect(scheduler.unregister('again')).toBe(true);
  scheduler.register('* * * * * *', { type: 'again' }, { id: 'again', missedTicks: 'once' });
  await vi.advanceTimersByTimeAsync(1000);
  expect([...tasks.keys()]).toEqual([
    tickTaskId('again', at('2026-01-01T00:00:01Z')),
    tickTaskId('again', at('2026-01-01T00:00:02Z')),
  ]);
  await scheduler.shutdown();
});

it('runs its interceptors around the enqueue of every tick, and stores the headers they set', async () => {
  vi.setSystemTime(at('2026-01-01T00:00:00.500Z'));
  const { broker, tasks } = memoryBroker();
  const seen: string[] = [];
  const scheduler = new Scheduler({
    broker,
    interceptors: [
      {
        enqueue(task, next) {
          seen.push(task.id);
          task.headers['traceparent'] = `trace-of-${task.id}`;
          return next();
        },
      },
    ],
  });
  const id = scheduler.register('* * * * * *', { type: 'tick' }, { id: 'per-second' });
  await scheduler.start();
  await vi.advanceTimersByTimeAsync(1600);
  const ticks = [tickTaskId(id, at('2026-01-01T00:00:01Z')), tickTaskId(id, at('2026-01-01T00:00:02Z'))];
  expect(seen).toEqual(ticks);
  expect(ticks.map((taskId) => tasks.get(taskId)?.headers)).toEqual(
    ticks.map((taskId) => ({ traceparent: `trace-of-${taskId}` })),
  );
  await scheduler.shutdown();
});
