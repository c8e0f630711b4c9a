import { Client } from '@q/client';
import type { TaskInfo, TaskOptions, TaskState } from '@q/core';
import { Option, type Command } from 'commander';
import {
  parseDuration,
  parseNonNegativeInteger,
  parsePositiveInteger,
  parseTime,
  stateParser,
} from './argument-parsers';
import type { CliContext } from './cli-context';
import { CliError, exitCodes } from './exit-codes';
import { bold, printableBytes, printJson, printTable, type Cell, type Output } from './output';
import { formatDuration, formatRelative, formatTimeAndRelative } from './time-format';

interface TaskAddress {
  queue: string;
  id: string;
}

interface BulkOptions {
  queue: string;
  state: TaskState;
  group?: string;
  json?: boolean;
}

export function registerTaskCommand(program: Command, context: CliContext): void {
  const task = program.command('task').description('manage tasks');

  task
    .command('ls')
    .alias('list')
    .description('list tasks of a queue in one state, one page at a time')
    .requiredOption('-q, --queue <queue>', 'the queue')
    .requiredOption(
      '-s, --state <state>',
      'active | pending | aggregating | scheduled | retry | archived | completed',
      stateParser(),
    )
    .option('-g, --group <group>', 'the group (required for aggregating tasks)')
    .option('--page <page>', 'page number, from 1', parsePositiveInteger, 1)
    .option('--size <size>', 'page size', parsePositiveInteger, 30)
    .option('--json', 'print JSON')
    .action(
      async (options: {
        queue: string;
        state: TaskState;
        group?: string;
        page: number;
        size: number;
        json?: boolean;
      }) => {
        if (options.state === 'aggregating' && !options.group) {
          throw new CliError(
            'Listing aggregating tasks needs --group; list groups with q group ls --queue <queue>.',
            exitCodes.usage,
          );
        }
        const inspector = await context.inspector();
        const tasks = await inspector.listTasks(options.queue, options.state, {
          page: options.page,
          pageSize: options.size,
          ...(options.group ? { group: options.group } : {}),
        });
        if (options.json) {
          printJson(context.output, tasks);
          return;
        }
        if (tasks.length === 0) {
          context.output.stdout.write(
            options.state === 'aggregating'
              ? `No aggregating tasks in group "${options.group}" of queue "${options.queue}"\n`
              : `No ${options.state} tasks in queue "${options.queue}"${options.page > 1 ? ` on page ${options.page}` : ''}\n`,
          );
          return;
        }
        printTaskTable(context.output, options.state, tasks, Date.now());
      },
    );

  task
    .command('inspect')
    .description('show everything about one task')
    .requiredOption('-q, --queue <queue>', 'the queue')
    .requiredOption('-i, --id <id>', 'the task id')
    .option('--json', 'print JSON')
    .action(async (options: TaskAddress & { json?: boolean }) => {
      const inspector = await context.inspector();
      const info = await inspector.getTaskInfo(options.queue, options.id);
      if (options.json) printJson(context.output, info);
      else printTaskInfo(context.output, info, Date.now());
    });

  task
    .command('cancel')
    .description('ask the servers to cancel one or more running tasks')
    .argument('<id...>', 'task ids')
    .action(async (ids: string[]) => {
      const inspector = await context.inspector();
      for (const id of ids) {
        await inspector.cancelProcessing(id);
        context.output.stdout.write(`Sent the cancel signal for task ${id}\n`);
      }
    });

  const single = [
    { name: 'archive', aliases: [], done: 'Archived task', run: 'archiveTask' },
    { name: 'delete', aliases: ['rm', 'remove'], done: 'Deleted task', run: 'deleteTask' },
    { name: 'run', aliases: [], done: 'Task is now pending:', run: 'runTask' },
  ] as const;
  for (const { name, aliases, done, run } of single) {
    task
      .command(name)
      .aliases([...aliases])
      .description(`${name} the task with the given id`)
      .requiredOption('-q, --queue <queue>', 'the queue')
      .requiredOption('-i, --id <id>', 'the task id')
      .action(async (options: TaskAddress) => {
        const inspector = await context.inspector();
        await inspector[run](options.queue, options.id);
        context.output.stdout.write(`${done} ${options.id}\n`);
      });
  }

  const bulk = [
    {
      name: 'archiveall',
      verb: 'archive',
      states: ['pending', 'aggregating', 'scheduled', 'retry'],
      done: 'archived',
      run: 'archiveAllTasks',
    },
    {
      name: 'deleteall',
      verb: 'delete',
      states: ['pending', 'aggregating', 'scheduled', 'retry', 'archived', 'completed'],
      done: 'deleted',
      run: 'deleteAllTasks',
    },
    {
      name: 'runall',
      verb: 'run',
      states: ['aggregating', 'scheduled', 'retry', 'archived'],
      done: 'now pending',
      run: 'runAllTasks',
    },
  ] as const;
  for (const { name, verb, states, done, run } of bulk) {
    task
      .command(name)
      .description(`${verb} every task of a queue in the given state`)
      .requiredOption('-q, --queue <queue>', 'the queue')
      .requiredOption('-s, --state <state>', states.join(' | '), stateParser(states))
      .option('-g, --group <group>', 'the group (required for aggregating tasks)')
      .option('--json', 'print JSON')
      .action(async (options: BulkOptions) => {
        if (options.state === 'aggregating' && !options.group) {
          throw new CliError(`To ${verb} aggregating tasks, name their group with --group.`, exitCodes.usage);
        }
        const inspector = await context.inspector();
        const count = await inspector[run](
          options.queue,
          options.state,
          options.group ? { group: options.group } : {},
        );
        if (options.json) printJson(context.output, { queue: options.queue, state: options.state, count });
        else context.output.stdout.write(`${count} tasks ${done}\n`);
      });
  }

  task
    .command('enqueue')
    .description('enqueue a task; the payload is stored as the bytes given')
    .addOption(new Option('-t, --type_name <type>', 'the task type (required)'))
    .addOption(new Option('--type <type>').hideHelp())
    .option('-l, --payload <payload>', 'the payload, stored as UTF-8 bytes (e.g. JSON text)', '')
    .option('--queue <queue>', 'the queue (default "default")')
    .option('--retry <count>', 'maximum retries (default 25)', parseNonNegativeInteger)
    .option('--id <id>', 'the task id (default a new UUID)')
    .option(
      '--timeout <duration>',
      "how long one attempt may run, e.g. '100s' (whole seconds, rounded up)",
      parseDuration,
    )
    .option(
      '--deadline <time>',
      'when the task must be done, RFC 3339 (rounded up to the whole second)',
      parseTime,
    )
    .option(
      '--unique <duration>',
      'refuse duplicates (same queue, type and payload) for this long',
      parseDuration,
    )
    .addOption(new Option('--process_at <time>', 'process at this time, RFC 3339').argParser(parseTime))
    .addOption(new Option('--process-at <time>').argParser(parseTime).hideHelp())
    .addOption(new Option('--process_in <duration>', 'process after this delay').argParser(parseDuration))
    .addOption(new Option('--process-in <duration>').argParser(parseDuration).hideHelp())
    .option('--retention <duration>', 'keep the task as completed for this long after success', parseDuration)
    .option('--group <group>', 'aggregate the task in this group')
    .option('--json', 'print the enqueued task as JSON')
    .action(async (options: EnqueueFlags) => {
      const type = options.type_name ?? options.type;
      if (!type) throw new CliError('Name the task type with --type_name (-t).', exitCodes.usage);
      const client = new Client({ broker: await context.broker() });
      const info = await client.enqueue(
        type,
        new TextEncoder().encode(options.payload),
        toTaskOptions(options),
      );
      if (options.json) printJson(context.output, info);
      else context.output.stdout.write(`Enqueued task ${info.id} to queue "${info.queue}" (${info.state})\n`);
    });
}

interface EnqueueFlags {
  type_name?: string;
  type?: string;
  payload: string;
  queue?: string;
  retry?: number;
  id?: string;
  timeout?: number;
  deadline?: Date;
  unique?: number;
  process_at?: Date;
  processAt?: Date;
  process_in?: number;
  processIn?: number;
  retention?: number;
  group?: string;
  json?: boolean;
}

/** Only the flags given become options, so that the client's defaults apply to the rest (as in Asynq). */
function toTaskOptions(flags: EnqueueFlags): TaskOptions {
  const options: TaskOptions = {};
  if (flags.queue !== undefined) options.queue = flags.queue;
  if (flags.retry !== undefined) options.maxRetry = flags.retry;
  if (flags.id !== undefined) options.taskId = flags.id;
  if (flags.timeout !== undefined) options.timeout = flags.timeout;
  if (flags.deadline !== undefined) options.deadline = flags.deadline;
  if (flags.unique !== undefined) options.unique = flags.unique;
  const processAt = flags.process_at ?? flags.processAt;
  if (processAt !== undefined) options.processAt = processAt;
  const processIn = flags.process_in ?? flags.processIn;
  if (processIn !== undefined) options.processIn = processIn;
  if (flags.retention !== undefined) options.retention = flags.retention;
  if (flags.group !== undefined) options.group = flags.group;
  return options;
}

export function printTaskTable(
  output: Output,
  state: TaskState,
  tasks: readonly TaskInfo[],
  now: number,
): void {
  const base = (task: TaskInfo): Cell[] => [task.id, task.type, printableBytes(task.payload)];
  switch (state) {
    case 'scheduled':
      printTable(
        output,
        ['ID', 'Type', 'Payload', 'Process In'],
        tasks.map((task) => [...base(task), processIn(task, now)]),
      );
      return;
    case 'retry':
      printTable(
        output,
        ['ID', 'Type', 'Payload', 'Next Retry', 'Last Error', 'Last Failed', 'Retried', 'Max Retry'],
        tasks.map((task) => [
          ...base(task),
          processIn(task, now),
          oneLine(task.lastError),
          formatRelative(task.lastFailedAt, now),
          task.retried,
          task.maxRetry,
        ]),
      );
      return;
    case 'archived':
      printTable(
        output,
        ['ID', 'Type', 'Payload', 'Last Failed', 'Last Error'],
        tasks.map((task) => [...base(task), formatRelative(task.lastFailedAt, now), oneLine(task.lastError)]),
      );
      return;
    case 'completed':
      printTable(
        output,
        ['ID', 'Type', 'Payload', 'Completed', 'Result'],
        tasks.map((task) => [
          ...base(task),
          formatRelative(task.completedAt, now),
          printableBytes(task.result),
        ]),
      );
      return;
    case 'aggregating':
      printTable(
        output,
        ['ID', 'Type', 'Payload', 'Group'],
        tasks.map((task) => [...base(task), task.group ?? '']),
      );
      return;
    case 'active':
      printTable(
        output,
        ['ID', 'Type', 'Payload', 'Orphaned'],
        tasks.map((task) => [...base(task), task.isOrphaned ? 'yes' : '']),
      );
      return;
    default:
      printTable(output, ['ID', 'Type', 'Payload'], tasks.map(base));
  }
}

function processIn(task: TaskInfo, now: number): string {
  if (!task.nextProcessAt) return '';
  const wait = task.nextProcessAt.getTime() - now;
  return wait <= 0 ? 'right now' : `in ${formatDuration(wait)}`;
}

function oneLine(text: string | undefined, maxLength = 60): string {
  if (!text) return '';
  const line = text.replace(/\s+/g, ' ');
  return line.length > maxLength ? `${line.slice(0, maxLength - 1)}…` : line;
}

export function printTaskInfo(output: Output, info: TaskInfo, now: number): void {
  const lines: [string, string][] = [
    ['Queue', info.queue],
    ['ID', info.id],
    ['Type', info.type],
    ['State', info.state],
    ['Retried', `${info.retried}/${info.maxRetry}`],
    ['Next process time', info.nextProcessAt ? formatTimeAndRelative(info.nextProcessAt, now) : 'n/a'],
    ['Payload', printableBytes(info.payload, 200)],
    ['Timeout', info.timeout > 0 ? formatDuration(info.timeout) : 'none'],
    ['Deadline', info.deadline ? formatTimeAndRelative(info.deadline, now) : 'none'],
  ];
  if (info.group) lines.push(['Group', info.group]);
  if (info.retention > 0) lines.push(['Retention', formatDuration(info.retention)]);
  if (info.completedAt) lines.push(['Completed at', formatTimeAndRelative(info.completedAt, now)]);
  if (info.result) lines.push(['Result', printableBytes(info.result, 200)]);
  const headers = Object.entries(info.headers);
  if (headers.length > 0)
    lines.push(['Headers', headers.map(([key, value]) => `${key}=${value}`).join(', ')]);
  if (info.isOrphaned) lines.push(['Orphaned', 'yes: its lease expired, its worker is presumed dead']);
  const width = Math.max(...lines.map(([label]) => label.length)) + 2;
  output.stdout.write(`${bold(output, 'Task Info')}\n`);
  for (const [label, value] of lines) output.stdout.write(`${`${label}:`.padEnd(width)}${value}\n`);
  if (info.lastError) {
    output.stdout.write(`\n${bold(output, 'Last Failure')}\n`);
    output.stdout.write(
      `Failed at:     ${info.lastFailedAt ? formatTimeAndRelative(info.lastFailedAt, now) : ''}\n`,
    );
    output.stdout.write(`Error message: ${info.lastError}\n`);
  }
}
