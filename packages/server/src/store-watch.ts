/**
 * Watches the store behind the broker for what loses tasks without an error: an eviction policy that lets
 * Redis drop keys when it is full (said loudly at start), and a restart that came back without its data
 * (said as soon as it is seen). Needs a broker that reports store facts (`storeInfo`); others are skipped.
 */
import type { StoreInfo } from '@q/core';
import { isUnreachableError } from './broker-reachability';
import type { ResolvedServerOptions } from './server-options';
import { withTimeout } from './timing';

/** Why keys may vanish under `policy`, or undefined when the policy never evicts. */
export function evictionRisk(policy: string | undefined): string | undefined {
  if (policy === undefined || policy === '' || policy === 'noeviction') return undefined;
  return policy.startsWith('volatile-')
    ? `Redis evicts keys that have a TTL when it is full (maxmemory-policy ${policy}): uniqueness locks and server heartbeats can vanish`
    : `Redis evicts keys when it is full (maxmemory-policy ${policy}): tasks can vanish without a trace`;
}

/** What a restart did to the data, from INFO's persistence fields. */
function describeRestart(info: StoreInfo): { lost: boolean; message: string } {
  const { details } = info;
  if (details.aof_enabled === '1') {
    return { lost: false, message: 'Redis restarted and reloaded its data from the append-only file' };
  }
  const loaded = Number(details.rdb_last_load_keys_loaded ?? '0');
  if (loaded > 0) {
    return {
      lost: true,
      message: `Redis restarted and reloaded ${loaded} keys from its last snapshot: tasks written since that snapshot are gone`,
    };
  }
  return {
    lost: true,
    message:
      'Redis restarted without persistence: its data is gone (every pending, scheduled, retry and archived task it held); the server goes on with new tasks',
  };
}

export function createStoreWatch(options: ResolvedServerOptions, callTimeout: number) {
  const { broker, logger } = options;
  let runId: string | undefined;
  let first = true;
  let unsupported = false;

  return async (): Promise<void> => {
    if (unsupported || typeof broker.storeInfo !== 'function') return;
    let info: StoreInfo;
    try {
      info = await withTimeout(options.clock, broker.storeInfo(), callTimeout, 'storeInfo');
    } catch (error) {
      if (isUnreachableError(error)) throw error;
      // A user without the right to read INFO, say: warn once and stop asking.
      unsupported = true;
      logger.warn(
        { error: error instanceof Error ? error.message : String(error) },
        'could not read the store facts (eviction policy, restarts); they are not watched',
      );
      return;
    }
    const seenRunId = info.details.run_id;
    if (first) {
      first = false;
      runId = seenRunId;
      const risk = evictionRisk(info.evictionPolicy);
      if (risk) {
        logger.error(
          { evictionPolicy: info.evictionPolicy, maxMemory: info.maxMemory, usedMemory: info.usedMemory },
          `${risk}. Set maxmemory-policy to noeviction (CONFIG SET maxmemory-policy noeviction, and in redis.conf) so that a full Redis refuses writes loudly instead of dropping tasks.`,
        );
      }
      return;
    }
    if (seenRunId === undefined || seenRunId === runId) return;
    runId = seenRunId;
    const restart = describeRestart(info);
    const fields = { runId: seenRunId, version: info.version };
    if (restart.lost) logger.error(fields, restart.message);
    else logger.warn(fields, restart.message);
  };
}
