/**
 * Keeps the leases of running tasks alive: extends, in one broker call per queue, the lease of every task
 * whose outcome is not written yet. A task whose lease the broker no longer holds, or whose lease ran out
 * because the broker could not be reached, is stopped and nothing is written for it: the recoverer
 * retries it. A task whose outcome write is in flight is left to that write's fenced answer.
 */
import type { ActiveTask } from './active-task';
import type { BrokerReachability } from './broker-reachability';
import type { ResolvedServerOptions } from './server-options';
import { withTimeout } from './timing';

/** How long a lease extension may take before it counts as failed. */
const extensionTimeout = 10_000;

export interface LeaseKeeperOptions {
  options: ResolvedServerOptions;
  reachability: BrokerReachability;
  /** Stops a task whose lease is gone; nothing more is written for it. */
  loseLease: (entry: ActiveTask, why: string) => void;
}

export async function extendLeases(
  active: Iterable<ActiveTask>,
  { options, reachability, loseLease }: LeaseKeeperOptions,
): Promise<void> {
  const now = options.clock.now();
  const byQueue = new Map<string, ActiveTask[]>();
  for (const entry of active) {
    if (entry.released || entry.leaseLost) continue;
    if (entry.leaseExpiresAt <= now) {
      loseLease(entry, 'it ran out before the broker could be reached to extend it');
      continue;
    }
    const entries = byQueue.get(entry.message.queue);
    if (entries) entries.push(entry);
    else byQueue.set(entry.message.queue, [entry]);
  }
  const { broker, leaseDuration } = options;
  const failures: unknown[] = [];
  await Promise.all(
    [...byQueue].map(async ([queue, entries]) => {
      const ids = [...new Set(entries.map((entry) => entry.message.id))];
      const tokens = new Map<string, string>();
      for (const entry of entries) {
        if (entry.fence.token !== undefined) tokens.set(entry.message.id, entry.fence.token);
      }
      try {
        const extension = await withTimeout(
          options.clock,
          broker.extendLeases(queue, ids, leaseDuration, tokens.size > 0 ? tokens : undefined),
          Math.min(extensionTimeout, leaseDuration / 2),
          'extendLeases',
        );
        reachability.succeeded();
        const lost = new Set(extension.lost);
        for (const entry of entries) {
          if (entry.released || entry.leaseLost) continue;
          if (lost.has(entry.message.id)) {
            // An outcome write in flight may have ended the task in the broker just before this call
            // (done deletes it): the write is fenced and its own answer says whether the lease was still
            // held, so stopping it here would report a loss that did not happen.
            if (!entry.decided) loseLease(entry, 'the broker no longer holds it');
          } else entry.leaseExpiresAt = Math.max(entry.leaseExpiresAt, extension.leaseExpiresAt);
        }
      } catch (error) {
        reachability.failed(error);
        failures.push(error);
      }
    }),
  );
  if (failures.length > 0) throw failures[0];
}
