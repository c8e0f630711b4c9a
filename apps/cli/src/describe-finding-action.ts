/**
 * `q doctor`'s words for what `diagnose()` says to do: each structured action as a sentence with the
 * command that does it, for the Redis this command talks to.
 */
import type { FindingAction } from '@q/inspector';

const quoted = (names: readonly string[]): string => names.map((name) => `"${name}"`).join(', ');
const listed = (names: readonly string[]): string => names.join(', ');

export function describeFindingAction(action: FindingAction): string {
  switch (action.kind) {
    case 'resume-queue':
      return `Resume the queue when it should run again: q queue resume ${action.queue}`;
    case 'send-signal': {
      const where = `server ${action.host}:${action.pid}`;
      if (action.signal === 'SIGCONT') {
        return `Resume ${where} with SIGCONT (kill -CONT ${action.pid} on ${action.host}) or server.resume().`;
      }
      if (action.signal === 'SIGTERM') {
        return `Shut ${where} down with SIGTERM (kill -TERM ${action.pid} on ${action.host}).`;
      }
      return `Kill ${where} (kill -KILL ${action.pid} on ${action.host}); its tasks return to their queue when their lease expires.`;
    }
    case 'start-server':
      return `Start a server with "${action.queue}" among its queues (new Server({ queues: { '${action.queue}': 1 } })).`;
    case 'cancel-tasks':
      return `Cancel the stuck tasks: q task cancel ${action.taskIds.join(' ')}`;
    case 'honour-abort-signal':
      return `Make the handlers of ${listed(action.taskIds)} stop when context.signal aborts: a handler that ignores it keeps its slot.`;
    case 'add-capacity':
      return `If the tasks are simply long or many: add servers for "${action.queue}", raise their concurrency, or give the queue more weight.`;
    case 'run-all-tasks':
      return `Run them now: q task runall --queue ${action.queue} --state ${action.state}`;
    case 'delete-all-tasks':
      return action.state === 'archived'
        ? `Delete archived tasks: q task deleteall --queue ${action.queue ?? '<queue>'} --state archived`
        : `Delete completed tasks (q task deleteall --queue ${action.queue ?? '<queue>'} --state completed) and keep them for less time (the retention option).`;
    case 'register-handler':
      return `Register a handler for ${quoted(action.taskTypes)} on the servers of "${action.queue}" (mux.handle('${action.taskTypes[0] ?? ''}', handler)), or fix the type the producer uses.`;
    case 'use-one-queue-name':
      return `Use one name on both sides: enqueue to "${action.similar}", or add "${action.queue}" to the servers' queues and restart them.`;
    case 'check-queue-name':
      return `Queues are created by the first enqueue: check the queue name the producer uses ("${action.queue}" here).`;
    case 'check-store-address':
      return 'Check that --uri, --db and --prefix (or Q_REDIS_URL) name the Redis and key prefix the producers write to.';
    case 'check-server-logs':
      return `Look at the logs of ${listed(action.servers)}: a server whose fetch loop has not run for long is stuck (restart it).`;
    case 'turn-off-strict-priority':
      return `Under strict priority, higher queues starve this one on ${listed(action.servers)}: turn strictPriority off, or add servers.`;
    case 'restore-store-connection':
      return `Check the network path and credentials from ${action.host} to Redis (the server's logs name the error); it resumes on its own once Redis answers.`;
    case 'stop-store-eviction':
      return 'Set maxmemory-policy to noeviction (CONFIG SET maxmemory-policy noeviction, and in redis.conf) so that a full Redis refuses writes loudly instead of dropping tasks; give it enough memory.';
    case 'add-store-memory':
      return "Raise Redis's maxmemory, or make room (below).";
    case 'synchronise-clocks':
      return `Synchronise the clocks of ${listed(action.hosts)} (chrony or systemd-timesyncd). Lease expiry and due times are written by one process and read by another: a skew over the lease (${action.leaseMs / 1000}s by default for @q servers) makes servers recover tasks that are still running, and scheduled tasks run early or late.`;
    case 'change-queue-limits':
      if (action.perKey) {
        return action.limit === 'rate'
          ? `This is the per-key rate limit at work, each key waits for its own window; to let more through, raise it: q queue limit ${action.queue} --per-key --rate N/DURATION`
          : `This is the per-key concurrency limit at work, each key waits for its own slots; to run more at once, raise it: q queue limit ${action.queue} --per-key --concurrency N`;
      }
      return action.limit === 'rate'
        ? `This is the rate limit at work; to let more through, raise it: q queue limit ${action.queue} --rate N/DURATION`
        : `This is the concurrency limit at work; to run more at once, raise it: q queue limit ${action.queue} --concurrency N`;
    case 'clear-queue-limits':
      return `Or remove the queue's limits (and any pause a handler asked for): q queue limit ${action.queue} --clear`;
    case 'serve-with-q-servers-only':
      return `Serve "${action.queue}" with @q servers only (stop it on ${listed(action.servers)}), or the limits hold only for the @q servers' share of its tasks.`;
    case 'none':
      if (action.reason === 'pause-ends-on-its-own') {
        return 'Nothing to do: a handler asked the queue to wait (RateLimitedError), and the pause ends by itself.';
      }
      return action.reason === 'recovers-on-its-own'
        ? 'Nothing to do: a running server of this queue recovers them (retrying each), unless they stay.'
        : 'Nothing to fix if that is intended.';
  }
}
