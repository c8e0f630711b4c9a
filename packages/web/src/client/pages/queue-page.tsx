/** One queue: its figures, groups, charts, and its tasks by state with paging and bulk actions. */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import type {
  QueueLimitsSummary,
  QueueResponse,
  TasksResponse,
  TaskStateName,
  TaskSummary,
} from '../../api-types';
import { ActionButton, Badge, BytesPeek, Loading, Pager, When } from '../components';
import { config, queueHref, taskHref } from '../config';
import { formatBytes, formatDuration, formatNumber } from '../format';
import { useApi } from '../live';
import { Charts, PauseButton } from './queues-page';

export const states: TaskStateName[] = [
  'active',
  'pending',
  'aggregating',
  'scheduled',
  'retry',
  'archived',
  'completed',
];

/** Which actions Asynq allows per state, for one task and for all of a state. */
export const taskActions: Record<TaskStateName, ('run' | 'archive' | 'delete' | 'cancel')[]> = {
  active: ['cancel'],
  pending: ['archive', 'delete'],
  aggregating: ['run', 'archive', 'delete'],
  scheduled: ['run', 'archive', 'delete'],
  retry: ['run', 'archive', 'delete'],
  archived: ['run', 'delete'],
  completed: ['delete'],
};

const bulkActions: Record<TaskStateName, ('run' | 'archive' | 'delete')[]> = {
  active: [],
  pending: ['archive', 'delete'],
  aggregating: ['run', 'archive', 'delete'],
  scheduled: ['run', 'archive', 'delete'],
  retry: ['run', 'archive', 'delete'],
  archived: ['run', 'delete'],
  completed: ['delete'],
};

const actionLabels = { run: 'Run', archive: 'Archive', delete: 'Delete', cancel: 'Cancel' } as const;

export function QueuePage() {
  const { params, query } = useRoute();
  const location = useLocation();
  const queue = params.queue ?? '';
  const state = (states.includes(query.state as TaskStateName) ? query.state : 'pending') as TaskStateName;
  const page = Math.max(1, Number(query.page) || 1);
  const overview = useApi<QueueResponse>(`/queues/${encodeURIComponent(queue)}`);
  const group = state === 'aggregating' ? (query.group ?? overview.data?.groups[0]?.group) : undefined;
  const go = (next: { state?: string; page?: number; group?: string }): void => {
    const search = new URLSearchParams({ state: next.state ?? state, page: String(next.page ?? 1) });
    const nextGroup = 'group' in next ? next.group : group;
    if ((next.state ?? state) === 'aggregating' && nextGroup) search.set('group', nextGroup);
    location.route(queueHref(queue, `?${search.toString()}`));
  };
  return (
    <section>
      <h1>
        Queue <span class="name">{queue}</span>
      </h1>
      <Loading state={overview}>
        {(data) => (
          <>
            <div class="facts">
              <Fact label="State">
                {data.queue.paused ? <Badge value="paused" /> : <Badge value="serving" />}
              </Fact>
              <Fact label="Size">{formatNumber(data.queue.size)}</Fact>
              <Fact label="Latency">{formatDuration(data.queue.latency)}</Fact>
              <Fact label="Processed today">{formatNumber(data.queue.processedToday)}</Fact>
              <Fact label="Failed today">{formatNumber(data.queue.failedToday)}</Fact>
              <Fact label="Processed in all">{formatNumber(data.queue.processedTotal)}</Fact>
              <Fact label="Failed in all">{formatNumber(data.queue.failedTotal)}</Fact>
              <Fact label="Memory">{formatBytes(data.queue.memoryUsage)}</Fact>
              {data.queue.limits ? (
                <Fact label="Flow limits">
                  <span title="obeyed by every @q server; Go Asynq servers ignore them">
                    {describeLimits(data.queue.limits)}
                  </span>
                </Fact>
              ) : null}
              <div class="fact-actions">
                <PauseButton queue={data.queue} refresh={overview.refresh} />
              </div>
            </div>
            <nav class="tabs" aria-label="Task states">
              {states.map((name) => (
                <a
                  key={name}
                  href={queueHref(queue, `?state=${name}`)}
                  class={name === state ? 'current' : undefined}
                  data-state={name}
                >
                  {name} <span class="count">{formatNumber(data.queue[name])}</span>
                </a>
              ))}
            </nav>
            {state === 'aggregating' ? (
              <div class="groups">
                <span class="muted">Groups:</span>
                {data.groups.length === 0 ? <span class="muted">none</span> : null}
                {data.groups.map((entry) => (
                  <button
                    type="button"
                    key={entry.group}
                    aria-pressed={entry.group === group}
                    onClick={() => go({ state, group: entry.group })}
                  >
                    {entry.group} <span class="count">{formatNumber(entry.size)}</span>
                  </button>
                ))}
              </div>
            ) : null}
          </>
        )}
      </Loading>
      {state !== 'aggregating' || group ? (
        <TaskList
          key={`${state}:${page}:${group ?? ''}`}
          queue={queue}
          state={state}
          page={page}
          group={group}
          onPage={(next) => go({ page: next })}
          onChange={overview.refresh}
        />
      ) : null}
      {overview.data ? (
        <Charts
          sampleKey={`queue:${queue}`}
          queues={[overview.data.queue]}
          history={overview.data.history}
          updatedAt={overview.updatedAt}
        />
      ) : null}
    </section>
  );
}

function Fact({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="fact">
      <div class="fact-label">{label}</div>
      <div class="fact-value">{children}</div>
    </div>
  );
}

function TaskList({
  queue,
  state,
  page,
  group,
  onPage,
  onChange,
}: {
  queue: string;
  state: TaskStateName;
  page: number;
  group: string | undefined;
  onPage: (page: number) => void;
  onChange: () => void;
}) {
  const search = new URLSearchParams({ state, page: String(page) });
  if (group) search.set('group', group);
  const list = useApi<TasksResponse>(`/queues/${encodeURIComponent(queue)}/tasks?${search.toString()}`);
  const changed = (): void => {
    list.refresh();
    onChange();
  };
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const name = encodeURIComponent(queue);
  const selectable = !config.readOnly && bulkActions[state].length > 0;
  const bulkQuery = `?state=${state}${group ? `&group=${encodeURIComponent(group)}` : ''}`;
  return (
    <Loading state={list}>
      {(data) => {
        // Only tasks still on the page count as selected.
        const selected = data.tasks.map((task) => task.id).filter((id) => chosen.has(id));
        return (
          <div class="tasks">
            {selected.length > 0 ? (
              <div class="bulk selected-bar">
                <span>{selected.length} selected:</span>
                {bulkActions[state].map((action) => (
                  <ActionButton
                    key={action}
                    path={`/queues/${name}/selected/${action}`}
                    body={{ ids: selected }}
                    label={`${actionLabels[action]} selected`}
                    danger={action === 'delete'}
                    {...(action === 'delete'
                      ? { confirm: `Delete the ${selected.length} selected tasks?` }
                      : {})}
                    onDone={() => {
                      setChosen(new Set());
                      changed();
                    }}
                  />
                ))}
              </div>
            ) : null}
            <div class="bulk">
              {data.total > 0
                ? bulkActions[state].map((action) => (
                    <ActionButton
                      key={action}
                      path={`/queues/${name}/${action}-all${bulkQuery}`}
                      label={`${actionLabels[action]} all ${state}`}
                      danger={action === 'delete'}
                      confirm={`${actionLabels[action]} all ${formatNumber(data.total)} ${state} tasks of ${queue}?`}
                      onDone={changed}
                    />
                  ))
                : null}
            </div>
            {data.tasks.length === 0 ? (
              <p class="muted">
                No {state} task{group ? ` in group ${group}` : ''}.
              </p>
            ) : (
              <TaskTable
                tasks={data.tasks}
                state={state}
                onChange={changed}
                {...(selectable ? { selection: { selected: new Set(selected), onChange: setChosen } } : {})}
              />
            )}
            <Pager page={data.page} pageSize={data.pageSize} total={data.total} onPage={onPage} />
          </div>
        );
      }}
    </Loading>
  );
}

export function TaskTable({
  tasks,
  state,
  onChange,
  selection,
}: {
  tasks: TaskSummary[];
  state?: TaskStateName;
  onChange?: () => void;
  /** Checkboxes to pick tasks for an action on the selected ones. */
  selection?: { selected: ReadonlySet<string>; onChange: (selected: ReadonlySet<string>) => void };
}) {
  const allSelected = selection !== undefined && tasks.every((task) => selection.selected.has(task.id));
  return (
    <table class="grid">
      <thead>
        <tr>
          {selection ? (
            <th class="select">
              <input
                type="checkbox"
                aria-label="Select every task of this page"
                checked={allSelected}
                onChange={() => selection.onChange(new Set(allSelected ? [] : tasks.map((task) => task.id)))}
              />
            </th>
          ) : null}
          <th>ID</th>
          <th>Type</th>
          <th>Payload</th>
          {state ? null : <th>Queue</th>}
          {state ? null : <th>State</th>}
          {state === 'scheduled' || state === 'retry' ? <th>Due</th> : null}
          {state === 'retry' || state === 'archived' ? <th>Retried</th> : null}
          {state === 'retry' || state === 'archived' ? <th>Last error</th> : null}
          {state === 'completed' ? <th>Completed</th> : null}
          {state === 'aggregating' ? <th>Group</th> : null}
          {state === 'active' ? <th>Lease</th> : null}
          <th />
        </tr>
      </thead>
      <tbody>
        {tasks.map((task) => (
          <tr key={task.id} data-task={task.id}>
            {selection ? (
              <td class="select">
                <input
                  type="checkbox"
                  aria-label={`Select task ${task.id}`}
                  checked={selection.selected.has(task.id)}
                  onChange={(event) => {
                    const next = new Set(selection.selected);
                    if (event.currentTarget.checked) next.add(task.id);
                    else next.delete(task.id);
                    selection.onChange(next);
                  }}
                />
              </td>
            ) : null}
            <td>
              <a href={taskHref(task.queue, task.id)}>
                <code>{task.id}</code>
              </a>
            </td>
            <td>{task.type}</td>
            <td class="payload">
              <BytesPeek bytes={task.payload} />
            </td>
            {state ? null : <td>{task.queue}</td>}
            {state ? null : (
              <td>
                <Badge value={task.state} />
              </td>
            )}
            {state === 'scheduled' || state === 'retry' ? (
              <td>
                <When iso={task.nextProcessAt} />
              </td>
            ) : null}
            {state === 'retry' || state === 'archived' ? (
              <td>
                {task.retried}/{task.maxRetry}
              </td>
            ) : null}
            {state === 'retry' || state === 'archived' ? (
              <td class="error-text">{task.lastError ?? ''}</td>
            ) : null}
            {state === 'completed' ? (
              <td>
                <When iso={task.completedAt} />
              </td>
            ) : null}
            {state === 'aggregating' ? <td>{task.group}</td> : null}
            {state === 'active' ? (
              <td>
                {task.isOrphaned ? <Badge value="orphaned" title="lease expired: its worker died" /> : 'held'}
              </td>
            ) : null}
            <td class="row-actions">
              {(taskActions[task.state] ?? []).map((action) => (
                <ActionButton
                  key={action}
                  path={`/queues/${encodeURIComponent(task.queue)}/tasks/${encodeURIComponent(task.id)}/${action}`}
                  label={actionLabels[action]}
                  danger={action === 'delete'}
                  {...(action === 'delete' ? { confirm: `Delete task ${task.id}?` } : {})}
                  {...(onChange ? { onDone: onChange } : {})}
                />
              ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** `concurrency 5 (3 running) · rate 50 per 1s · paused until …`. */
function describeLimits(limits: QueueLimitsSummary): string {
  const parts: string[] = [];
  if (limits.concurrency !== undefined) {
    parts.push(`concurrency ${limits.concurrency} (${limits.running} running)`);
  }
  if (limits.rate) parts.push(`rate ${limits.rate.limit} per ${formatDuration(limits.rate.period)}`);
  if (limits.pausedUntil) parts.push(`paused until ${new Date(limits.pausedUntil).toLocaleTimeString()}`);
  const perKey = limits.perKey;
  if (perKey) {
    if (perKey.concurrency !== undefined) parts.push(`per flow key: concurrency ${perKey.concurrency}`);
    if (perKey.rate) {
      parts.push(`per flow key: rate ${perKey.rate.limit} per ${formatDuration(perKey.rate.period)}`);
    }
    if (perKey.parked > 0) {
      parts.push(`${perKey.parked} pending tasks wait on their key's limit (${perKey.parkedKeys} keys)`);
    }
  }
  return parts.join(' · ');
}
