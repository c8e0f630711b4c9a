/** Draws the dashboard as lines of text for a terminal of a given size. Pure: no terminal access. */
import type { TaskInfo } from '@q/core';
import { serverStateOf } from '@q/inspector';
import { dashboardTaskStates, taskListKey, type DashboardData, type DashboardState } from './dashboard-state';
import { printableBytes } from './output';
import { formatDuration, formatRelative, formatTime, formatTimeAndRelative } from './time-format';

export interface ScreenSize {
  columns: number;
  rows: number;
}

export interface DashboardHeading {
  /** Where the dashboard is connected, password hidden. */
  target: string;
  refreshEvery: number;
}

const inverse = (text: string): string => `\x1b[7m${text}\x1b[27m`;
const boldText = (text: string): string => `\x1b[1m${text}\x1b[22m`;
const dim = (text: string): string => `\x1b[2m${text}\x1b[22m`;

/** Lines that fit the screen; each may carry styling escapes, and none is wider than `columns`. */
export function renderDashboard(
  state: DashboardState,
  data: DashboardData,
  size: ScreenSize,
  heading: DashboardHeading,
): string[] {
  const now = data.fetchedAt ?? Date.now();
  const lines: Line[] = [];
  const refreshed = data.fetchedAt
    ? `refreshed ${formatTime(new Date(data.fetchedAt)).slice(11)}`
    : 'loading...';
  lines.push({
    text: `q dash  ${heading.target}  ${refreshed}, every ${formatDuration(heading.refreshEvery)}`,
    style: boldText,
  });
  const byState = new Map<string, number>();
  for (const server of data.servers)
    byState.set(serverStateOf(server), (byState.get(serverStateOf(server)) ?? 0) + 1);
  const busy = data.servers.reduce(
    (sum, server) => sum + Math.max(server.activeWorkerCount, server.activeWorkers.length),
    0,
  );
  const slots = data.servers.reduce((sum, server) => sum + server.concurrency, 0);
  lines.push({
    text:
      data.servers.length === 0
        ? 'Servers: none running'
        : `Servers: ${data.servers.length} (${[...byState].map(([name, count]) => `${count} ${name}`).join(', ')}), workers ${busy}/${slots} busy`,
  });
  if (data.error) lines.push({ text: `Refresh failed: ${data.error}`, style: inverse });
  lines.push({ text: '' });

  const bodyRows = Math.max(1, size.rows - lines.length - 2);
  if (state.view === 'queues') lines.push(...queuesView(state, data, bodyRows));
  else if (state.view === 'tasks') lines.push(...tasksView(state, data, bodyRows, now));
  else lines.push(...taskView(state, data, now));

  const help =
    state.view === 'queues'
      ? 'Up/Down select  Enter open  r refresh  ? help  q quit'
      : state.view === 'tasks'
        ? 'Left/Right state  Up/Down select  Enter details  n/p page  Esc back  q quit'
        : 'Esc back  r refresh  q quit';
  const body = lines.slice(0, size.rows - 1);
  while (body.length < size.rows - 1) body.push({ text: '' });
  if (state.showHelp) {
    body.splice(
      Math.max(0, body.length - 4),
      4,
      { text: 'Keys: arrows or h/j/k/l move, Enter/Right open, Esc/Backspace/Left back, Tab next state,' },
      {
        text: '      n/p or PageDown/PageUp next/previous page, r refresh now, ? this help, q or Ctrl-C quit.',
      },
      { text: '' },
      { text: '' },
    );
  }
  body.push({ text: help, style: dim });
  return body.map((line) => fit(line, size.columns));
}

interface Line {
  text: string;
  style?: (text: string) => string;
}

function fit(line: Line, columns: number): string {
  const chars = [...line.text];
  const text = chars.length > columns ? `${chars.slice(0, Math.max(0, columns - 1)).join('')}…` : line.text;
  return line.style && text.length > 0 ? line.style(text) : text;
}

/** Columns laid out two spaces apart; the selected row is marked with `>` and drawn inverse. */
function table(headers: string[], rows: string[][], selected: number | undefined): Line[] {
  const widths = headers.map((header, column) =>
    Math.min(40, Math.max(header.length, ...rows.map((row) => [...(row[column] ?? '')].length))),
  );
  const cell = (value: string, column: number): string => {
    const width = widths[column]!;
    const chars = [...value];
    return chars.length > width ? `${chars.slice(0, width - 1).join('')}…` : value.padEnd(width);
  };
  const format = (row: string[]): string => row.map(cell).join('  ').trimEnd();
  return [
    { text: `  ${format(headers)}`, style: boldText },
    ...rows.map((row, index) =>
      index === selected ? { text: `> ${format(row)}`, style: inverse } : { text: `  ${format(row)}` },
    ),
  ];
}

function queuesView(state: DashboardState, data: DashboardData, rows: number): Line[] {
  if (data.queues.length === 0) return [{ text: data.fetchedAt ? 'No queues.' : 'Reading queues...' }];
  const selected = Math.min(state.queueIndex, data.queues.length - 1);
  const first = Math.max(0, selected - (rows - 2));
  const visible = data.queues.slice(first, first + rows - 1);
  return table(
    [
      'Queue',
      'State',
      'Size',
      'Latency',
      'Active',
      'Pending',
      'Aggregating',
      'Scheduled',
      'Retry',
      'Archived',
      'Completed',
      'Processed',
      'Failed',
      'Memory',
    ],
    visible.map((queue) => [
      queue.queue,
      queue.paused ? 'paused' : 'run',
      String(queue.size),
      queue.latency > 0 ? formatDuration(queue.latency) : '-',
      String(queue.active),
      String(queue.pending),
      String(queue.aggregating),
      String(queue.scheduled),
      String(queue.retry),
      String(queue.archived),
      String(queue.completed),
      String(queue.processedToday),
      String(queue.failedToday),
      formatBytes(queue.memoryUsage),
    ]),
    selected - first,
  );
}

function tasksView(state: DashboardState, data: DashboardData, rows: number, now: number): Line[] {
  const queue = data.queues.find((candidate) => candidate.queue === state.queue);
  const tabs = dashboardTaskStates
    .map((taskState, index) => {
      const label = `${taskState} ${queue ? queue[taskState] : '?'}`;
      return index === state.stateIndex ? `[${label}]` : ` ${label} `;
    })
    .join(' ');
  const current = dashboardTaskStates[state.stateIndex]!;
  const lines: Line[] = [
    { text: `Queue ${state.queue ?? ''}${queue?.paused ? ' (paused)' : ''}`, style: boldText },
    { text: tabs },
    { text: '' },
  ];
  if (data.tasksFor !== taskListKey(state)) {
    lines.push({ text: `Reading ${current} tasks...` });
    return lines;
  }
  if (data.tasks.length === 0) {
    lines.push({
      text: state.page > 1 ? `No ${current} tasks on page ${state.page}.` : `No ${current} tasks.`,
    });
    return lines;
  }
  const { headers, cells } = taskColumns(current, now);
  const selected = Math.min(state.taskIndex, data.tasks.length - 1);
  const room = Math.max(1, rows - lines.length - 2);
  const first = Math.max(0, selected - (room - 1));
  lines.push(...table(headers, data.tasks.slice(first, first + room).map(cells), selected - first));
  lines.push({ text: `page ${state.page}`, style: dim });
  return lines;
}

function taskColumns(state: string, now: number): { headers: string[]; cells: (task: TaskInfo) => string[] } {
  const base = (task: TaskInfo): string[] => [task.id, task.type, printableBytes(task.payload, 30)];
  switch (state) {
    case 'scheduled':
      return {
        headers: ['ID', 'Type', 'Payload', 'Process At'],
        cells: (task) => [...base(task), formatRelative(task.nextProcessAt, now)],
      };
    case 'retry':
      return {
        headers: ['ID', 'Type', 'Payload', 'Next Retry', 'Retried', 'Last Error'],
        cells: (task) => [
          ...base(task),
          formatRelative(task.nextProcessAt, now),
          `${task.retried}/${task.maxRetry}`,
          task.lastError ?? '',
        ],
      };
    case 'archived':
      return {
        headers: ['ID', 'Type', 'Payload', 'Last Failed', 'Last Error'],
        cells: (task) => [...base(task), formatRelative(task.lastFailedAt, now), task.lastError ?? ''],
      };
    case 'completed':
      return {
        headers: ['ID', 'Type', 'Payload', 'Completed', 'Result'],
        cells: (task) => [
          ...base(task),
          formatRelative(task.completedAt, now),
          printableBytes(task.result, 30),
        ],
      };
    case 'aggregating':
      return {
        headers: ['ID', 'Type', 'Payload', 'Group'],
        cells: (task) => [...base(task), task.group ?? ''],
      };
    case 'active':
      return {
        headers: ['ID', 'Type', 'Payload', 'Orphaned'],
        cells: (task) => [...base(task), task.isOrphaned ? 'yes' : ''],
      };
    default:
      return { headers: ['ID', 'Type', 'Payload'], cells: base };
  }
}

function taskView(state: DashboardState, data: DashboardData, now: number): Line[] {
  const task = data.task;
  if (!task) {
    return [
      { text: `Task ${state.taskId ?? ''}`, style: boldText },
      { text: '' },
      {
        text: data.fetchedAt
          ? 'This task is no longer in the queue (it finished or was deleted).'
          : 'Reading task...',
      },
    ];
  }
  const rows: [string, string][] = [
    ['ID', task.id],
    ['Queue', task.queue],
    ['Type', task.type],
    ['State', task.state],
    ['Retried', `${task.retried}/${task.maxRetry}`],
    ['Next process', task.nextProcessAt ? formatTimeAndRelative(task.nextProcessAt, now) : 'n/a'],
    ['Payload', printableBytes(task.payload, 500)],
    ['Timeout', task.timeout > 0 ? formatDuration(task.timeout) : 'none'],
    ['Deadline', task.deadline ? formatTimeAndRelative(task.deadline, now) : 'none'],
    ['Group', task.group ?? ''],
    ['Retention', task.retention > 0 ? formatDuration(task.retention) : 'none'],
    ['Last error', task.lastError ?? ''],
    ['Last failed', task.lastFailedAt ? formatTimeAndRelative(task.lastFailedAt, now) : ''],
    ['Completed', task.completedAt ? formatTimeAndRelative(task.completedAt, now) : ''],
    ['Result', printableBytes(task.result, 500)],
    [
      'Headers',
      Object.entries(task.headers)
        .map(([key, value]) => `${key}=${value}`)
        .join(', '),
    ],
    ['Orphaned', task.isOrphaned ? 'yes: its lease expired' : 'no'],
  ];
  return [
    { text: `Task ${task.id}`, style: boldText },
    { text: '' },
    ...rows.map(([label, value]) => ({ text: `${`${label}:`.padEnd(14)}${value}` })),
  ];
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes}B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)}K`;
  return `${(bytes / 1024 / 1024).toFixed(1)}M`;
}
