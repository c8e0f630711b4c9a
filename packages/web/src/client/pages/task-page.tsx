/** One task: payload (text or hex), result, last error, retries, times, and its actions. */
import { useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import type { TaskDetail } from '../../api-types';
import { apiPath } from '../api';
import { ActionButton, Badge, BytesView, Loading, When } from '../components';
import { queueHref } from '../config';
import { formatDuration } from '../format';
import { useApi } from '../live';
import { taskActions } from './queue-page';

const labels = { run: 'Run now', archive: 'Archive', delete: 'Delete', cancel: 'Cancel' } as const;

export function TaskPage() {
  const { params } = useRoute();
  const location = useLocation();
  const queue = params.queue ?? '';
  const id = params.id ?? '';
  const [full, setFull] = useState(false);
  const base = `/queues/${encodeURIComponent(queue)}/tasks/${encodeURIComponent(id)}`;
  const state = useApi<{ task: TaskDetail }>(`${base}${full ? '?full=1' : ''}`);
  return (
    <section>
      <p class="crumbs">
        <a href={queueHref(queue)}>← Queue {queue}</a>
      </p>
      <h1>
        Task <code class="name">{id}</code>
      </h1>
      {state.status === 404 && !state.data ? (
        <p class="problem" role="alert">
          No task {id} in queue {queue}: it may have been processed and deleted, or the id is wrong.
        </p>
      ) : (
        <Loading state={state}>
          {({ task }) => (
            <>
              <div class="actions">
                {(taskActions[task.state] ?? []).map((action) => (
                  <ActionButton
                    key={action}
                    path={`${base}/${action}`}
                    label={labels[action]}
                    danger={action === 'delete'}
                    {...(action === 'delete' ? { confirm: `Delete task ${task.id}?` } : {})}
                    onDone={() => (action === 'delete' ? location.route(queueHref(queue)) : state.refresh())}
                  />
                ))}
              </div>
              <dl class="details">
                <dt>State</dt>
                <dd>
                  <Badge value={task.state} />
                  {task.isOrphaned ? <Badge value="orphaned" title="lease expired: its worker died" /> : null}
                </dd>
                <dt>Type</dt>
                <dd>{task.type}</dd>
                <dt>Queue</dt>
                <dd>{task.queue}</dd>
                {task.group ? (
                  <>
                    <dt>Group</dt>
                    <dd>{task.group}</dd>
                  </>
                ) : null}
                <dt>Retries</dt>
                <dd>
                  {task.retried} of {task.maxRetry}
                </dd>
                <dt>Timeout</dt>
                <dd>{task.timeout > 0 ? formatDuration(task.timeout) : 'none of its own'}</dd>
                <dt>Deadline</dt>
                <dd>
                  <When iso={task.deadline} />
                </dd>
                <dt>Next run</dt>
                <dd>
                  <When iso={task.nextProcessAt} />
                </dd>
                <dt>Last failed</dt>
                <dd>
                  <When iso={task.lastFailedAt} />
                </dd>
                <dt>Completed</dt>
                <dd>
                  <When iso={task.completedAt} />
                </dd>
                <dt>Retention</dt>
                <dd>{task.retention > 0 ? formatDuration(task.retention) : 'none'}</dd>
                {Object.keys(task.headers).length > 0 ? (
                  <>
                    <dt>Headers</dt>
                    <dd>
                      {Object.entries(task.headers).map(([key, value]) => (
                        <div key={key}>
                          <code>{key}</code>: <code>{value}</code>
                        </div>
                      ))}
                    </dd>
                  </>
                ) : null}
              </dl>
              {task.lastError !== undefined ? (
                <div class="last-error">
                  <h2>Last error</h2>
                  <pre class="error-text">{task.lastError}</pre>
                </div>
              ) : null}
              <h2>Payload</h2>
              <BytesView
                bytes={task.payload}
                label="payload"
                onShowAll={() => setFull(true)}
                download={apiPath(`${base}/payload`)}
              />
              {task.result ? (
                <>
                  <h2>Result</h2>
                  <BytesView
                    bytes={task.result}
                    label="result"
                    onShowAll={() => setFull(true)}
                    download={apiPath(`${base}/result`)}
                  />
                </>
              ) : null}
            </>
          )}
        </Loading>
      )}
    </section>
  );
}
