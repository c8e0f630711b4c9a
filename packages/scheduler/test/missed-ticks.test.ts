import { randomUUID } from 'node:crypto';
import { createRedisBroker } from '@q/broker-redis';
import { afterEach, expect, inject, it } from 'vitest';
import { tickTaskId } from '../src/index';
import { startSchedulerProcess, type SchedulerProcessHandle } from './scheduler-process-handle';

const redisUrl = inject('redisUrl');
const running: SchedulerProcessHandle[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((handle) => handle.stop()));
});

/** Each process's clock starts at `clockStartAt` (a made-up 2030 time), so minutes pass in a second. */
function start(prefix: string, entries: unknown[], clockStartAt: string): SchedulerProcessHandle {
  const handle = startSchedulerProcess({
    Q_REDIS_URL: redisUrl,
    Q_PREFIX: prefix,
    Q_ENTRIES: JSON.stringify(entries),
    Q_CLOCK_START_AT: clockStartAt,
  });
  running.push(handle);
  return handle;
}

it('applies the missed-tick policy per entry when schedulers were down: skip, or enqueue the latest once', async () => {
  const prefix = `q-scheduler-test-${randomUUID().slice(0, 8)}`;
  const queue = 'missed';
  const entries = [
    {
      spec: '* * * * *',
      task: { type: 'missed:once', options: { queue } },
      options: { id: 'once', missedTicks: 'once' },
    },
    { spec: '* * * * *', task: { type: 'missed:skip', options: { queue } }, options: { id: 'skip' } },
  ];
  const at = (iso: string) => Date.parse(iso);

  // A runs just long enough to enqueue 00:01:00 for both entries, then stops.
  const first = start(prefix, entries, '2030-01-01T00:00:59.000Z');
  await first.waitFor((event) => event.event === 'tick' && event.entryId === 'once');
  await first.waitFor((event) => event.event === 'tick' && event.entryId === 'skip');
  await first.stop();
  expect(first.events.filter((event) => event.event === 'tick').map((event) => event.status)).toEqual([
    'enqueued',
    'enqueued',
  ]);

  // Nine minutes pass with no scheduler. B starts at 00:10:30: 'once' enqueues 00:10:00, 'skip' nothing.
  const second = start(prefix, entries, '2030-01-01T00:10:30.000Z');
  await second.waitFor((event) => event.event === 'started');
  await second.stop();
  expect(second.events.filter((event) => event.event === 'tick')).toEqual([
    expect.objectContaining({
      entryId: 'once',
      taskId: tickTaskId('once', at('2030-01-01T00:10:00Z')),
      catchUp: true,
      status: 'enqueued',
    }),
  ]);

  // Three copies start together after another gap: the missed tick is still enqueued once.
  const copies = [0, 1, 2].map(() => start(prefix, entries, '2030-01-01T00:20:30.000Z'));
  await Promise.all(copies.map((handle) => handle.waitFor((event) => event.event === 'started')));
  await Promise.all(copies.map((handle) => handle.stop()));
  const catchUps = copies.flatMap((handle) => handle.events.filter((event) => event.event === 'tick'));
  // A copy that reads the history after the winner wrote it does not even try.
  expect(new Set(catchUps.map((event) => event.taskId))).toEqual(
    new Set([tickTaskId('once', at('2030-01-01T00:20:00Z'))]),
  );
  expect(catchUps.filter((event) => event.status === 'enqueued')).toHaveLength(1);
  expect(catchUps.filter((event) => event.status !== 'enqueued').map((event) => event.status)).toEqual(
    Array(catchUps.length - 1).fill('enqueued-elsewhere'),
  );

  // A restart in the same minute finds the tick in the history and enqueues nothing.
  const again = start(prefix, entries, '2030-01-01T00:20:45.000Z');
  await again.waitFor((event) => event.event === 'started');
  await again.stop();
  expect(again.events.filter((event) => event.event === 'tick')).toEqual([]);

  const broker = createRedisBroker({ url: redisUrl, prefix });
  const pending = await broker.listTasks(queue, 'pending', { page: 1, pageSize: 100 });
  expect(pending.map((task) => task.message.id).sort()).toEqual(
    [
      tickTaskId('once', at('2030-01-01T00:01:00Z')),
      tickTaskId('skip', at('2030-01-01T00:01:00Z')),
      tickTaskId('once', at('2030-01-01T00:10:00Z')),
      tickTaskId('once', at('2030-01-01T00:20:00Z')),
    ].sort(),
  );
  const history = await broker.schedulerHistory('once', { page: 1, pageSize: 10 });
  expect(history.map((event) => event.taskId)).toEqual([
    tickTaskId('once', at('2030-01-01T00:20:00Z')),
    tickTaskId('once', at('2030-01-01T00:10:00Z')),
    tickTaskId('once', at('2030-01-01T00:01:00Z')),
  ]);
  await broker.close();
}, 40_000);
