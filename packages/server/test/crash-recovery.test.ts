/**
 * Recovery of a dead worker's tasks: a real child Node process runs a Server, takes tasks, and is killed
 * with SIGKILL; a second server recovers its tasks once their leases end (test settings: lease 5 s,
 * recoverer every 1 s, so within about 7 s, against Go Asynq's 60-120 s).
 */
import { createInterface } from 'node:readline';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createHarness, queueName } from './harness';
import { spawnFixture } from './run-fixture';
import { waitFor } from './wait-for';

describe('Server against Redis: crash recovery', () => {
  it("recovers a SIGKILLed worker process's tasks within seconds", async () => {
    const harness = createHarness();
    const queue = queueName('crash');
    const child = spawnFixture('crash-worker', [harness.url, harness.prefix, queue]);
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const events: { event: string; taskId?: string }[] = [];
    createInterface({ input: child.stdout }).on('line', (line) =>
      events.push(JSON.parse(line) as { event: string }),
    );
    await waitFor(
      () => events.some((event) => event.event === 'ready') || child.exitCode !== null,
      'the worker',
      20_000,
    );
    expect(stderr).toBe('');

    const enqueued = await Promise.all(
      [1, 2, 3].map((n) => harness.client.enqueue('crash', { n }, { queue })),
    );
    await waitFor(
      () => events.filter((event) => event.event === 'started').length === 3,
      'the worker to take all three',
    );
    child.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor(() => child.signalCode === 'SIGKILL', 'the worker to die');

    const rerun = new Map<string, { at: number; retried: number }>();
    await harness
      .server({ queues: { [queue]: 1 }, leaseDuration: '5s', recovererInterval: '1s', retryDelay: () => 0 })
      .start((task) => void rerun.set(task.id, { at: Date.now(), retried: task.retried }));
    await waitFor(() => rerun.size === 3, 'the three tasks to run again', 15_000);
    const slowest = Math.max(...[...rerun.values()].map((entry) => entry.at - killedAt));
    // Lease 5 s + one sweep of 1 s + forwarding and pickup: well within 8 s.
    expect(slowest).toBeLessThan(8000);
    for (const info of enqueued) expect(rerun.get(info.id)?.retried).toBe(1);
  });
});
