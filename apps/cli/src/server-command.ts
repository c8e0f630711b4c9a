import { serverStateOf, type ServerInfo } from '@q/inspector';
import type { Command } from 'commander';
import type { CliContext } from './cli-context';
import { bold, printJson, printTable } from './output';
import { formatDuration, formatRelative } from './time-format';

export function registerServerCommand(program: Command, context: CliContext): void {
  const server = program.command('server').description('see the servers processing tasks');
  server
    .command('ls')
    .alias('list')
    .description('list live servers with their state, last signal and running tasks')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const inspector = await context.inspector();
      const servers = await inspector.servers();
      if (options.json) {
        printJson(
          context.output,
          servers.map((entry) => ({ ...entry, state: serverStateOf(entry) })),
        );
        return;
      }
      if (servers.length === 0) {
        context.output.stdout.write('No running servers\n');
        return;
      }
      const now = Date.now();
      printTable(
        context.output,
        ['Host', 'PID', 'State', 'Since', 'Last Signal', 'Active Workers', 'Queues', 'Started', 'Last Fetch'],
        servers.map((entry) => [
          entry.host,
          entry.pid,
          describeState(entry),
          entry.lifecycle ? formatRelative(entry.lifecycle.stateSince, now) : '',
          entry.lifecycle?.lastSignal
            ? `${entry.lifecycle.lastSignal} ${formatRelative(entry.lifecycle.lastSignalAt, now)}`.trim()
            : entry.lifecycle
              ? 'none'
              : '',
          `${Math.max(entry.activeWorkerCount, entry.activeWorkers.length)}/${entry.concurrency}`,
          formatQueues(entry.queues),
          formatRelative(entry.startedAt, now),
          entry.lifecycle?.lastFetchAt ? formatRelative(entry.lifecycle.lastFetchAt, now) : '',
        ]),
      );
      const running = servers.flatMap((entry) =>
        entry.activeWorkers.map((worker) => ({ server: entry, worker })),
      );
      if (running.length === 0) return;
      context.output.stdout.write(`\n${bold(context.output, 'Running Tasks')}\n`);
      printTable(
        context.output,
        ['Server', 'Task ID', 'Type', 'Queue', 'Started', 'Deadline'],
        running.map(({ server: owner, worker }) => {
          const overdue =
            owner.lifecycle?.overdueTaskIds.includes(worker.taskId) || worker.deadline.getTime() < now;
          return [
            `${owner.host}:${owner.pid}`,
            worker.taskId,
            worker.taskType,
            worker.queue,
            formatRelative(worker.startedAt, now),
            overdue
              ? `OVERDUE by ${formatDuration(now - worker.deadline.getTime())}`
              : formatRelative(worker.deadline, now),
          ];
        }),
      );
    });
}

const asynqStatusOf: Record<string, string> = { running: 'active', quiet: 'stopped' };

/** @q's state word, with Asynq's status word after it when they do not say the same thing. */
function describeState(server: ServerInfo): string {
  const state = serverStateOf(server);
  const expected = asynqStatusOf[state] ?? 'closed';
  return server.status === expected ? state : `${state} (${server.status})`;
}

/** Asynq's order: by priority, highest first, then by name. */
function formatQueues(queues: Record<string, number>): string {
  return Object.entries(queues)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([name, priority]) => `${name}:${priority}`)
    .join(' ');
}
