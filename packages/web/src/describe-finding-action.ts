/**
 * The dashboard's words for what `diagnose()` says to do: each structured action as a sentence that
 * points at the page's own buttons where there is one, and at the `q` command or the host otherwise.
 */
import type { FindingAction } from '@q/inspector';

const quoted = (names: readonly string[]): string => names.map((name) => `"${name}"`).join(', ');

export function describeFindingAction(action: FindingAction): string {
  switch (action.kind) {
    case 'resume-queue':
      return `Resume queue "${action.queue}" when it should run again (the Resume button, or q queue resume ${action.queue}).`;
    case 'send-signal': {
      const where = `server ${action.host}:${action.pid}`;
      if (action.signal === 'SIGCONT') {
        return `Resume ${where}: send it SIGCONT on its host (kill -CONT ${action.pid}) or call server.resume().`;
      }
      if (action.signal === 'SIGTERM') {
        return `Shut ${where} down: send it SIGTERM on its host (kill -TERM ${action.pid}).`;
      }
      return `Kill ${where} on its host (kill -KILL ${action.pid}); its tasks return to their queue when their lease expires.`;
    }
    case 'start-server':
      return `Start a server with "${action.queue}" among its queues (new Server({ queues: { '${action.queue}': 1 } })).`;
    case 'cancel-tasks':
      return `Cancel the stuck tasks ${action.taskIds.join(', ')} (Cancel on each task's page, or q task cancel ${action.taskIds.join(' ')}).`;
    case 'honour-abort-signal':
      return `Make the handlers of ${action.taskIds.join(', ')} stop when context.signal aborts: a handler that ignores it keeps its slot.`;
    case 'add-capacity':
      return `If the tasks are simply long or many: add servers for "${action.queue}", raise their concurrency, or give the queue more weight.`;
    case 'run-all-tasks':
      return `To run them now: run every ${action.state} task of "${action.queue}" from the queue's page (q task runall --queue ${action.queue} --state ${action.state}).`;
    case 'delete-all-tasks':
      return action.state === 'archived'
        ? `Make room: delete archived tasks from each queue's page (q task deleteall --queue <queue> --state archived).`
        : 'Keep completed tasks for less time (the retention option), and delete those kept from each queue page.';
    case 'register-handler':
      return `Register a handler for ${quoted(action.taskTypes)} on the servers of "${action.queue}" (mux.handle('${action.taskTypes[0] ?? ''}', handler)), or fix the type the producer uses.`;
    case 'use-one-queue-name':
      return `Use one name on both sides: enqueue to "${action.similar}", or add "${action.queue}" to the servers' queues and restart them.`;
    case 'check-queue-name':
      return `Queues are created by the first enqueue: check the queue name the producer uses ("${action.queue}" here).`;
    case 'check-store-address':
      return 'Check that the dashboard reads the Redis (URL, database, key prefix) the producers write to.';
    case 'check-server-logs':
      return `Look at the logs of ${action.servers.join(', ')}: a server whose fetch loop has not run for long is stuck (restart it).`;
    case 'turn-off-strict-priority':
      return `Under strict priority, higher queues starve this one on ${action.servers.join(', ')}: turn strictPriority off, or add servers.`;
    case 'restore-store-connection':
      return `Check the network path and credentials from ${action.host} to Redis (the server's logs name the error); it resumes on its own once Redis answers.`;
    case 'stop-store-eviction':
      return 'Set maxmemory-policy to noeviction (CONFIG SET maxmemory-policy noeviction, and in redis.conf) so that a full Redis refuses writes loudly instead of dropping tasks; give it enough memory.';
    case 'add-store-memory':
      return "Raise Redis's maxmemory, or make room (below).";
    case 'synchronise-clocks':
      return `Synchronise the clocks of ${action.hosts.join(', ')} (chrony or systemd-timesyncd): a skew over the lease (${action.leaseMs / 1000}s by default for @q servers) makes servers recover tasks that are still running, and scheduled tasks run early or late.`;
    case 'change-queue-limits':
      if (action.perKey) {
        return action.limit === 'rate'
          ? `This is the per-key rate limit at work; to let more through, raise it (q queue limit ${action.queue} --per-key --rate N/DURATION).`
          : `This is the per-key concurrency limit at work; to run more at once, raise it (q queue limit ${action.queue} --per-key --concurrency N).`;
      }
      return action.limit === 'rate'
        ? `This is the rate limit at work; to let more through, raise it (q queue limit ${action.queue} --rate N/DURATION).`
        : `This is the concurrency limit at work; to run more at once, raise it (q queue limit ${action.queue} --concurrency N).`;
    case 'clear-queue-limits':
      return `Or remove the queue's limits and any pause a handler asked for (q queue limit ${action.queue} --clear).`;
    case 'serve-with-q-servers-only':
      return `Serve "${action.queue}" with @q servers only (not ${action.servers.join(', ')}): Go Asynq servers do not obey its limits.`;
    case 'none':
      if (action.reason === 'pause-ends-on-its-own') {
        return 'Nothing to do: a handler asked the queue to wait (RateLimitedError), and the pause ends by itself.';
      }
      return action.reason === 'recovers-on-its-own'
        ? 'Nothing to do: a running server of this queue recovers them (retrying each), unless they stay.'
        : 'Nothing to fix if that is intended.';
  }
}
