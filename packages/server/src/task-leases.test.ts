import { createManualClock, createMemoryBroker } from '@q/broker-memory';
import { describe, expect, it } from 'vitest';
import { testMessage } from '../test/test-broker';
import { createActiveTask, type ActiveTask } from './active-task';
import { BrokerReachability } from './broker-reachability';
import { resolveServerOptions } from './server-options';
import { computeTaskDeadline } from './task-deadline';
import { extendLeases } from './task-leases';

async function leasedTasks(count: number) {
  const clock = createManualClock();
  const broker = createMemoryBroker({ clock });
  for (let index = 0; index < count; index += 1) {
    await broker.enqueue({ message: testMessage({ queue: 'leases' }) });
  }
  const options = resolveServerOptions({ broker, queues: { leases: 1 }, clock });
  const { tasks } = await broker.dequeue(['leases'], { count, leaseDuration: options.leaseDuration });
  const now = clock.now();
  const entries = tasks.map((leased) =>
    createActiveTask(leased, computeTaskDeadline(leased.message, now), now),
  );
  return { broker, clock, options, entries };
}

describe('extendLeases', () => {
  it('extends the leases of running tasks in the broker', async () => {
    const { clock, options, entries } = await leasedTasks(2);
    const before = entries.map((entry) => entry.leaseExpiresAt);
    await clock.advance(1000);
    const lost: string[] = [];
    await extendLeases(entries, {
      options,
      reachability: new BrokerReachability(() => undefined, clock),
      loseLease: (entry) => lost.push(entry.message.id),
    });
    expect(lost).toEqual([]);
    entries.forEach((entry, index) => expect(entry.leaseExpiresAt).toBe(before[index]! + 1000));
  });

  it('stops a running task whose lease the broker no longer holds, but not one whose outcome write ended it', async () => {
    const { broker, clock, options, entries } = await leasedTasks(2);
    const [running, writing] = entries as [ActiveTask, ActiveTask];
    // Both tasks are gone from the broker: one recovered elsewhere (deleted here), one done by its own
    // outcome write, which landed just before the extension.
    await broker.done(running.message, running.fence);
    writing.settled = true;
    writing.decided = true;
    await broker.done(writing.message, writing.fence);
    const lost: { id: string; why: string }[] = [];
    await extendLeases(entries, {
      options,
      reachability: new BrokerReachability(() => undefined, clock),
      loseLease: (entry, why) => lost.push({ id: entry.message.id, why }),
    });
    expect(lost).toEqual([{ id: running.message.id, why: 'the broker no longer holds it' }]);
  });
});
