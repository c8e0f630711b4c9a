/**
 * The dashboard's navigation, kept pure so it can be tested without a terminal: queues, then one queue's
 * tasks by state, then one task's details.
 */
import type { TaskInfo, TaskState } from '@q/core';
import type { QueueInfo, ServerInfo } from '@q/inspector';

/** The tabs of the tasks view, in Asynq's order. */
export const dashboardTaskStates = [
  'active',
  'pending',
  'aggregating',
  'scheduled',
  'retry',
  'archived',
  'completed',
] as const satisfies readonly TaskState[];

export type DashboardView = 'queues' | 'tasks' | 'task';

export interface DashboardState {
  view: DashboardView;
  /** The selected row of the queues view. */
  queueIndex: number;
  /** The queue whose tasks are shown. */
  queue?: string;
  /** The selected tab of the tasks view. */
  stateIndex: number;
  /** The selected row of the tasks view. */
  taskIndex: number;
  /** 1-based page of the tasks view. */
  page: number;
  /** The task whose details are shown. */
  taskId?: string;
  showHelp: boolean;
  quit: boolean;
}

export interface DashboardData {
  queues: QueueInfo[];
  servers: ServerInfo[];
  /** The page of tasks of the tasks view. */
  tasks: TaskInfo[];
  /** Which list `tasks` holds (see `taskListKey`); the list shown is still loading when it differs. */
  tasksFor?: string;
  /** The task of the task view; undefined when it is gone. */
  task?: TaskInfo;
  /** The id `task` was read for; the task is still loading when it differs from the state's. */
  taskFor?: string;
  /** Why the last refresh failed, if it did. */
  error?: string;
  /** When the data was read (Unix ms). */
  fetchedAt?: number;
}

export type DashboardKey =
  | 'up'
  | 'down'
  | 'left'
  | 'right'
  | 'enter'
  | 'back'
  | 'next-page'
  | 'previous-page'
  | 'refresh'
  | 'help'
  | 'quit';

/** Names the list of tasks a state shows: queue, tab and page. */
export function taskListKey(state: DashboardState): string {
  return `${state.queue ?? ''}\u0000${state.stateIndex}\u0000${state.page}`;
}

export function initialDashboardState(): DashboardState {
  return {
    view: 'queues',
    queueIndex: 0,
    stateIndex: 1,
    taskIndex: 0,
    page: 1,
    showHelp: false,
    quit: false,
  };
}

export function emptyDashboardData(): DashboardData {
  return { queues: [], servers: [], tasks: [] };
}

const escapeSequences: [string, DashboardKey][] = [
  ['\x1b[A', 'up'],
  ['\x1bOA', 'up'],
  ['\x1b[B', 'down'],
  ['\x1bOB', 'down'],
  ['\x1b[C', 'right'],
  ['\x1bOC', 'right'],
  ['\x1b[D', 'left'],
  ['\x1bOD', 'left'],
  ['\x1b[Z', 'left'],
  ['\x1b[5~', 'previous-page'],
  ['\x1b[6~', 'next-page'],
];

const singleKeys: Record<string, DashboardKey> = {
  k: 'up',
  j: 'down',
  h: 'left',
  l: 'right',
  '\t': 'right',
  '\r': 'enter',
  '\n': 'enter',
  '\x7f': 'back',
  '\b': 'back',
  '\x1b': 'back',
  n: 'next-page',
  p: 'previous-page',
  r: 'refresh',
  '?': 'help',
  q: 'quit',
  '\x03': 'quit',
  '\x04': 'quit',
};

/** The keys in one chunk read from a terminal in raw mode; unknown input is ignored. */
export function parseKeys(chunk: string): DashboardKey[] {
  const keys: DashboardKey[] = [];
  let rest = chunk;
  while (rest.length > 0) {
    const sequence = escapeSequences.find(([prefix]) => rest.startsWith(prefix));
    if (sequence) {
      keys.push(sequence[1]);
      rest = rest.slice(sequence[0].length);
      continue;
    }
    if (rest.startsWith('\x1b[') || rest.startsWith('\x1bO')) {
      // An escape sequence we do not use (function keys, mouse): skip it whole.
      const end = rest.slice(2).search(/[A-Za-z~]/);
      rest = end === -1 ? '' : rest.slice(end + 3);
      continue;
    }
    const key = singleKeys[rest[0]!];
    if (key) keys.push(key);
    rest = rest.slice(1);
  }
  return keys;
}

const clamp = (value: number, count: number): number => Math.max(0, Math.min(value, Math.max(0, count - 1)));

/** The next state after `key`, given what is on screen. */
export function applyKey(state: DashboardState, key: DashboardKey, data: DashboardData): DashboardState {
  if (key === 'quit') return { ...state, quit: true };
  if (key === 'help') return { ...state, showHelp: !state.showHelp };
  if (key === 'refresh') return state;
  switch (state.view) {
    case 'queues':
      return queuesKey(state, key, data);
    case 'tasks':
      return tasksKey(state, key, data);
    case 'task':
      return key === 'back' || key === 'left' ? { ...state, view: 'tasks', taskId: undefined } : state;
  }
}

function queuesKey(state: DashboardState, key: DashboardKey, data: DashboardData): DashboardState {
  const count = data.queues.length;
  if (key === 'up') return { ...state, queueIndex: clamp(state.queueIndex - 1, count) };
  if (key === 'down') return { ...state, queueIndex: clamp(state.queueIndex + 1, count) };
  if ((key === 'enter' || key === 'right') && count > 0) {
    const queue = data.queues[clamp(state.queueIndex, count)]!;
    // Open on the first tab that has tasks, pending when none has.
    const withTasks = dashboardTaskStates.findIndex((taskState) => queue[taskState] > 0);
    return {
      ...state,
      view: 'tasks',
      queue: queue.queue,
      stateIndex: withTasks === -1 ? 1 : withTasks,
      taskIndex: 0,
      page: 1,
    };
  }
  return state;
}

function tasksKey(state: DashboardState, key: DashboardKey, data: DashboardData): DashboardState {
  const tabs = dashboardTaskStates.length;
  switch (key) {
    case 'left':
      return { ...state, stateIndex: (state.stateIndex + tabs - 1) % tabs, taskIndex: 0, page: 1 };
    case 'right':
      return { ...state, stateIndex: (state.stateIndex + 1) % tabs, taskIndex: 0, page: 1 };
    case 'up':
      return { ...state, taskIndex: clamp(state.taskIndex - 1, data.tasks.length) };
    case 'down':
      return { ...state, taskIndex: clamp(state.taskIndex + 1, data.tasks.length) };
    case 'next-page':
      return data.tasks.length > 0 ? { ...state, page: state.page + 1, taskIndex: 0 } : state;
    case 'previous-page':
      return { ...state, page: Math.max(1, state.page - 1), taskIndex: 0 };
    case 'back':
      return { ...state, view: 'queues', queue: undefined, taskIndex: 0, page: 1 };
    case 'enter': {
      const task = data.tasks[clamp(state.taskIndex, data.tasks.length)];
      return task ? { ...state, view: 'task', taskId: task.id } : state;
    }
    default:
      return state;
  }
}
