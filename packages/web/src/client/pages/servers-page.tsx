/** Live servers: their lifecycle (running, quiet, draining; since when, last signal, last fetch,
 * overdue tasks) and the tasks they are running. */
import type { ServerSummary } from '../../api-types';
import { Badge, BytesPeek, Loading, When } from '../components';
import { taskHref } from '../config';
import { formatRelative, formatTime } from '../format';
import { useApi } from '../live';

export function ServersPage() {
  const state = useApi<{ servers: ServerSummary[] }>('/servers');
  return (
    <section>
      <h1>Servers</h1>
      <Loading state={state}>
        {({ servers }) =>
          servers.length === 0 ? (
            <p class="muted">No live server: none has published its state in the last seconds.</p>
          ) : (
            servers.map((server) => <ServerCard key={server.id} server={server} />)
          )
        }
      </Loading>
    </section>
  );
}

const stateHelp: Record<string, string> = {
  running: 'fetching and processing tasks',
  quiet: 'not fetching new tasks (SIGTSTP); running tasks finish; CONT resumes',
  draining: 'shutting down: finishing running tasks before it exits',
  forced: 'shutting down now: running tasks are abandoned and recovered later',
  closed: 'stopped',
};

function ServerCard({ server }: { server: ServerSummary }) {
  const lifecycle = server.lifecycle;
  const overdue = lifecycle?.overdueTaskIds ?? [];
  return (
    <article class={`server server-${server.state}`} data-server={server.id}>
      <header>
        <h2>
          {server.host}:{server.pid}
        </h2>
        <Badge value={server.state} title={stateHelp[server.state] ?? server.status} />
        {lifecycle ? (
          <span class="since" title={formatTime(lifecycle.stateSince)}>
            since {formatRelative(lifecycle.stateSince)}
          </span>
        ) : (
          <span class="muted">Go Asynq server (status {server.status})</span>
        )}
      </header>
      <dl class="details">
        {lifecycle ? (
          <>
            <dt>Last signal</dt>
            <dd class="last-signal">
              {lifecycle.lastSignal ? (
                <>
                  <code>{lifecycle.lastSignal}</code> <When iso={lifecycle.lastSignalAt} />
                </>
              ) : (
                <span class="muted">none</span>
              )}
            </dd>
            <dt>Last fetch</dt>
            <dd>
              <When iso={lifecycle.lastFetchAt} />
            </dd>
            <dt>Overdue tasks</dt>
            <dd>
              {overdue.length === 0 ? (
                <span class="muted">none</span>
              ) : (
                <span class="error-text">{overdue.length} overran their timeout and still hold a slot</span>
              )}
            </dd>
            {lifecycle.brokerReachable === false ? (
              <>
                <dt>Redis</dt>
                <dd class="error-text">unreachable at its last report</dd>
              </>
            ) : null}
            {lifecycle.version ? (
              <>
                <dt>Version</dt>
                <dd>{lifecycle.version}</dd>
              </>
            ) : null}
          </>
        ) : null}
        <dt>Busy</dt>
        <dd>
          {server.activeWorkerCount} of {server.concurrency}
        </dd>
        <dt>Queues</dt>
        <dd>
          {Object.entries(server.queues)
            .sort((a, b) => b[1] - a[1])
            .map(([queue, priority]) => `${queue}: ${priority}`)
            .join(', ')}
          {server.strictPriority ? ' (strict priority)' : ''}
        </dd>
        <dt>Started</dt>
        <dd>
          <When iso={server.startedAt} />
        </dd>
        <dt>Server id</dt>
        <dd>
          <code>{server.serverId}</code>
        </dd>
      </dl>
      {server.activeWorkers.length > 0 ? (
        <table class="grid">
          <thead>
            <tr>
              <th>Running task</th>
              <th>Type</th>
              <th>Queue</th>
              <th>Payload</th>
              <th>Started</th>
              <th>Deadline</th>
            </tr>
          </thead>
          <tbody>
            {server.activeWorkers.map((worker) => (
              <tr key={worker.taskId} class={worker.overdue ? 'overdue' : undefined}>
                <td>
                  <a href={taskHref(worker.queue, worker.taskId)}>
                    <code>{worker.taskId}</code>
                  </a>
                  {worker.overdue ? <Badge value="overdue" /> : null}
                </td>
                <td>{worker.taskType}</td>
                <td>{worker.queue}</td>
                <td class="payload">
                  <BytesPeek bytes={worker.payload} />
                </td>
                <td>
                  <When iso={worker.startedAt} />
                </td>
                <td>
                  <When iso={worker.deadline} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="muted">No task running.</p>
      )}
    </article>
  );
}
