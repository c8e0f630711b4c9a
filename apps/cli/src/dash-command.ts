import type { Inspector } from '@q/inspector';
import type { Command } from 'commander';
import { parseDuration } from './argument-parsers';
import type { CliContext } from './cli-context';
import {
  applyKey,
  dashboardTaskStates,
  emptyDashboardData,
  initialDashboardState,
  parseKeys,
  taskListKey,
  type DashboardData,
  type DashboardState,
} from './dashboard-state';
import { renderDashboard, type DashboardHeading } from './dashboard-view';
import { describeError } from './describe-error';
import { CliError, exitCodes } from './exit-codes';

export function registerDashCommand(program: Command, context: CliContext): void {
  program
    .command('dash')
    .description("a terminal dashboard that refreshes: queues, then a queue's tasks by state, then a task")
    .option('--refresh <duration>', "how often to refresh, e.g. '2s'", parseDuration, 2000)
    .option('--once', 'print one frame without terminal control, then exit')
    .action(async (options: { refresh: number; once?: boolean }) => {
      if (!options.once && (!process.stdin.isTTY || !process.stdout.isTTY)) {
        throw new CliError(
          'q dash needs a terminal; in scripts use q stats, q queue inspect or q dash --once.',
          exitCodes.usage,
        );
      }
      const inspector = await context.inspector({ reconnect: true });
      const heading: DashboardHeading = {
        target: `${context.connection.displayUrl} (prefix ${context.connection.prefix})`,
        refreshEvery: Math.max(options.refresh, 250),
      };
      if (options.once) {
        const state = initialDashboardState();
        const data = await fetchDashboard(inspector, state, 30);
        const size = { columns: process.stdout.columns ?? 160, rows: Math.max(12, data.queues.length + 8) };
        context.output.stdout.write(
          `${renderDashboard(state, data, size, heading).map(stripStyles).join('\n')}\n`,
        );
        return;
      }
      await runDashboard({ inspector, heading, context });
    });
}

interface DashboardRun {
  inspector: Inspector;
  heading: DashboardHeading;
  context: CliContext;
}

/** Runs the dashboard on the process's terminal until the user quits or a signal arrives. */
async function runDashboard({ inspector, heading, context }: DashboardRun): Promise<void> {
  const input = process.stdin;
  const terminal = process.stdout;
  let state: DashboardState = initialDashboardState();
  let data: DashboardData = emptyDashboardData();
  let fetching: Promise<void> | undefined;
  let fetchAgain = false;

  const size = (): { columns: number; rows: number } => ({
    columns: terminal.columns || 80,
    rows: terminal.rows || 24,
  });
  const draw = (): void => {
    const lines = renderDashboard(state, data, size(), heading);
    terminal.write(`\x1b[H${lines.map((line) => `${line}\x1b[K`).join('\r\n')}\x1b[J`);
  };
  const refresh = (): void => {
    if (fetching) {
      fetchAgain = true;
      return;
    }
    const wanted = state;
    fetching = fetchDashboard(inspector, wanted, Math.max(1, size().rows - 12))
      .then(
        (fresh) => {
          data = fresh;
        },
        (error: unknown) => {
          data = { ...data, error: describeError(error, context).message };
        },
      )
      .finally(() => {
        fetching = undefined;
        draw();
        if (fetchAgain) {
          fetchAgain = false;
          refresh();
        }
      });
  };

  await new Promise<void>((resolve) => {
    const finish = (): void => {
      clearInterval(timer);
      input.off('data', onData);
      terminal.off('resize', draw);
      process.off('SIGINT', finish);
      process.off('SIGTERM', finish);
      process.off('SIGHUP', finish);
      resolve();
    };
    const onData = (chunk: Buffer | string): void => {
      const before = state;
      for (const key of parseKeys(chunk.toString())) {
        state = applyKey(state, key, data);
        if (key === 'refresh') refresh();
      }
      if (state.quit) {
        finish();
        return;
      }
      const moved =
        before.view !== state.view ||
        before.queue !== state.queue ||
        before.stateIndex !== state.stateIndex ||
        before.page !== state.page ||
        before.taskId !== state.taskId;
      if (moved) {
        // Show the new place at once ("Reading..."), then read it.
        if (taskListKey(before) !== taskListKey(state)) data = { ...data, tasks: [], tasksFor: undefined };
        if (before.taskId !== state.taskId) data = { ...data, task: undefined, taskFor: undefined };
        refresh();
      }
      draw();
    };
    terminal.write('\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J');
    input.setRawMode(true);
    input.resume();
    input.on('data', onData);
    terminal.on('resize', draw);
    process.on('SIGINT', finish);
    process.on('SIGTERM', finish);
    process.on('SIGHUP', finish);
    const timer = setInterval(refresh, heading.refreshEvery);
    draw();
    refresh();
  });

  await fetching;
  input.setRawMode(false);
  input.pause();
  terminal.write('\x1b[?25h\x1b[?1049l');
}

/** Reads what the current view shows. */
export async function fetchDashboard(
  inspector: Inspector,
  state: DashboardState,
  pageSize: number,
): Promise<DashboardData> {
  const [names, servers] = await Promise.all([inspector.queues(), inspector.servers()]);
  const queues = await Promise.all(names.map((name) => inspector.getQueueInfo(name).catch(() => undefined)));
  const data: DashboardData = {
    queues: queues.filter((queue) => queue !== undefined),
    servers,
    tasks: [],
    fetchedAt: Date.now(),
  };
  if ((state.view === 'tasks' || state.view === 'task') && state.queue) {
    const taskState = dashboardTaskStates[state.stateIndex]!;
    data.tasksFor = taskListKey(state);
    if (taskState === 'aggregating') {
      const groups = await inspector.groups(state.queue);
      const all = await Promise.all(
        groups.map((group) =>
          inspector.listAggregatingTasks(state.queue!, group.group, {
            page: 1,
            pageSize: pageSize * state.page,
          }),
        ),
      );
      data.tasks = all.flat().slice((state.page - 1) * pageSize, state.page * pageSize);
    } else {
      data.tasks = await inspector
        .listTasks(state.queue, taskState, { page: state.page, pageSize })
        .catch((error: unknown) => {
          if (isNotFound(error)) return [];
          throw error;
        });
    }
  }
  if (state.view === 'task' && state.queue && state.taskId) {
    data.taskFor = state.taskId;
    data.task = await inspector.getTaskInfo(state.queue, state.taskId).catch((error: unknown) => {
      if (isNotFound(error)) return undefined;
      throw error;
    });
  }
  return data;
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'Q_TASK_NOT_FOUND' || code === 'Q_QUEUE_NOT_FOUND';
}

function stripStyles(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}
