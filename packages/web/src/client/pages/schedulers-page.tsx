/** Scheduler entries (cron and periodic tasks) and the enqueues each made. */
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import type { SchedulerEntrySummary, SchedulerHistoryResponse } from '../../api-types';
import { BytesPeek, Loading, Pager, When } from '../components';
import { href } from '../config';
import { useApi } from '../live';

export function SchedulersPage() {
  const state = useApi<{ entries: SchedulerEntrySummary[] }>('/schedulers');
  const [open, setOpen] = useState<string | undefined>();
  return (
    <section>
      <h1>Scheduler entries</h1>
      <Loading state={state}>
        {({ entries }) =>
          entries.length === 0 ? (
            <p class="muted">No live scheduler has registered an entry.</p>
          ) : (
            <table class="grid">
              <thead>
                <tr>
                  <th>Spec</th>
                  <th>Type</th>
                  <th>Payload</th>
                  <th>Options</th>
                  <th>Next</th>
                  <th>Previous</th>
                  <th>Scheduler</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {entries.map((entry) => (
                  <Fragment key={entry.id}>
                    <tr data-entry={entry.id}>
                      <td>
                        <code>{entry.spec}</code>
                      </td>
                      <td>{entry.taskType}</td>
                      <td class="payload">
                        <BytesPeek bytes={entry.payload} />
                      </td>
                      <td>{entry.options.join(', ')}</td>
                      <td>
                        <When iso={entry.nextEnqueueAt} />
                      </td>
                      <td>
                        <When iso={entry.previousEnqueueAt} />
                      </td>
                      <td>
                        {entry.scheduler.host}:{entry.scheduler.pid}
                      </td>
                      <td>
                        <button
                          type="button"
                          aria-expanded={open === entry.id}
                          onClick={() => setOpen(open === entry.id ? undefined : entry.id)}
                        >
                          History
                        </button>
                      </td>
                    </tr>
                    {open === entry.id ? (
                      <tr class="history-row">
                        <td colSpan={8}>
                          <History entryId={entry.id} />
                        </td>
                      </tr>
                    ) : null}
                  </Fragment>
                ))}
              </tbody>
            </table>
          )
        }
      </Loading>
    </section>
  );
}

function History({ entryId }: { entryId: string }) {
  const [page, setPage] = useState(1);
  const state = useApi<SchedulerHistoryResponse>(
    `/schedulers/${encodeURIComponent(entryId)}/history?page=${page}&pageSize=10`,
  );
  return (
    <Loading state={state}>
      {(data) => (
        <div class="history">
          {data.events.length === 0 ? (
            <p class="muted">No enqueue recorded yet.</p>
          ) : (
            <ul>
              {data.events.map((event) => (
                <li key={`${event.taskId}-${event.enqueuedAt}`}>
                  <When iso={event.enqueuedAt} /> enqueued{' '}
                  <a href={href(`/search?id=${encodeURIComponent(event.taskId)}`)}>
                    <code>{event.taskId}</code>
                  </a>
                </li>
              ))}
            </ul>
          )}
          <Pager
            page={data.page}
            pageSize={data.pageSize}
            total={
              data.events.length < data.pageSize
                ? (data.page - 1) * data.pageSize + data.events.length
                : undefined
            }
            onPage={setPage}
          />
        </div>
      )}
    </Loading>
  );
}
