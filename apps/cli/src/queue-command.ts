import { QError, ValidationError, type FlowRate } from '@q/core';
import {
  describeFlowRate,
  parseFlowRate,
  type ClusterNode,
  type Inspector,
  type QueueInfo,
  type QueueLimitsInfo,
  type QueueKeyLimitsInput,
  type QueueLimitsInput,
} from '@q/inspector';
import { InvalidArgumentError, type Command } from 'commander';
import { parsePositiveInteger } from './argument-parsers';
import type { CliContext } from './cli-context';
import { describeError } from './describe-error';
import { exitCodes } from './exit-codes';
import { bold, printJson, printTable, type Output } from './output';
import { errorRate } from './stats-command';
import { formatDuration, formatTime } from './time-format';

export function registerQueueCommand(program: Command, context: CliContext): void {
  const queue = program.command('queue').description('manage queues');

  queue
    .command('ls')
    .alias('list')
    .description(
      'list queues, with their flow limits when they have any (and their cluster key slot and nodes under --cluster)',
    )
    .option('--json', 'print JSON: one object per queue, { queue, limits?, keySlot?, nodes? }')
    .action(async (options: { json?: boolean }) => {
      const inspector = await context.inspector();
      const names = await inspector.queues();
      const entries = await Promise.all(
        names.map(async (name) => {
          const entry: QueueListEntry = { queue: name };
          const limits = await readLimits(inspector, name);
          if (limits) entry.limits = limits;
          if (context.connection.cluster) {
            entry.keySlot = await inspector.clusterKeySlot(name);
            entry.nodes = await inspector.clusterNodes(name);
          }
          return entry;
        }),
      );
      if (options.json) {
        printJson(context.output, entries);
        return;
      }
      const anyLimits = entries.some((entry) => entry.limits !== undefined);
      if (!context.connection.cluster && !anyLimits) {
        context.output.stdout.write(names.length > 0 ? `${names.join('\n')}\n` : 'No queues\n');
        return;
      }
      const headers = ['Queue'];
      if (anyLimits) headers.push('Concurrency', 'Rate', 'Running');
      if (context.connection.cluster) headers.push('Cluster KeySlot', 'Cluster Nodes');
      printTable(
        context.output,
        headers,
        entries.map((entry) => {
          const row: (string | number)[] = [entry.queue];
          if (anyLimits) row.push(...limitCells(entry.limits));
          if (context.connection.cluster) {
            row.push(entry.keySlot ?? '', (entry.nodes ?? []).map((node) => node.address).join(' '));
          }
          return row;
        }),
      );
    });

  queue
    .command('limit')
    .description(
      'show or set the flow limits of a queue, obeyed by every @q server (not by Go Asynq servers): tasks running at once, tasks started per period',
    )
    .argument('<queue>', 'queue name (it need not exist yet)')
    .option(
      '-c, --concurrency <n>',
      "tasks of the queue running at once across all servers; 'off' removes the limit",
      parseLimitValue(parsePositiveInteger),
    )
    .option(
      '-r, --rate <n/duration>',
      "tasks started per period across all servers, e.g. '50/s', '100/1s', '1000/5m'; 'off' removes it",
      parseLimitValue(parseRate),
    )
    .option(
      '--per-key',
      'with --concurrency / --rate: the limits each flow key of the queue (tasks enqueued with flowKey: a tenant, a customer) has on its own',
    )
    .option('--clear', 'remove every limit of the queue (and a pause a handler asked for)')
    .option('--json', 'print JSON')
    .action(
      async (
        name: string,
        options: {
          concurrency?: number | typeof removeLimit;
          rate?: FlowRate | typeof removeLimit;
          perKey?: boolean;
          clear?: boolean;
          json?: boolean;
        },
      ) => {
        const inspector = await context.inspector();
        const changing = options.concurrency !== undefined || options.rate !== undefined;
        if (options.clear && (changing || options.perKey)) {
          throw new ValidationError(
            '--clear removes every limit, per key too; use it alone, or --concurrency off / --rate off (with --per-key for the per-key ones) to remove one.',
          );
        }
        if (options.perKey && !changing) {
          throw new ValidationError(
            '--per-key sets the limits of each flow key: give it with --concurrency N and/or --rate N/DURATION (off removes one).',
          );
        }
        let limits: QueueLimitsInfo;
        if (options.clear) {
          await inspector.clearQueueLimits(name);
          limits = await inspector.getQueueLimits(name);
        } else if (changing) {
          const update: QueueKeyLimitsInput = {};
          if (options.concurrency !== undefined) {
            update.concurrency = options.concurrency === removeLimit ? null : options.concurrency;
          }
          if (options.rate !== undefined) update.rate = options.rate === removeLimit ? null : options.rate;
          const input: QueueLimitsInput = options.perKey ? { perKey: update } : update;
          limits = await inspector.setQueueLimits(name, input);
        } else {
          limits = await inspector.getQueueLimits(name);
        }
        if (options.json) {
          printJson(context.output, { queue: name, ...limits });
          return;
        }
        printLimits(context.output, name, limits);
      },
    );

  queue
    .command('inspect')
    .description('show detailed information on one or more queues')
    .argument('<queue...>', 'queue names')
    .option('--json', 'print JSON')
    .action(async (queues: string[], options: { json?: boolean }) => {
      const inspector = await context.inspector();
      const results = await eachQueue(context, queues, (name) => inspector.getQueueInfo(name));
      if (options.json) {
        printJson(
          context.output,
          results.filter((info) => info !== undefined),
        );
        return;
      }
      results.forEach((info, index) => {
        if (!info) return;
        if (index > 0) context.output.stdout.write('\n');
        printQueueInfo(context.output, info);
      });
    });

  queue
    .command('history')
    .description('show processed and failed counts per day for one or more queues')
    .argument('<queue...>', 'queue names')
    .option('-x, --days <days>', 'how many days, today first', parsePositiveInteger, 10)
    .option('--json', 'print JSON')
    .action(async (queues: string[], options: { days: number; json?: boolean }) => {
      const inspector = await context.inspector();
      const results = await eachQueue(context, queues, (name) => inspector.history(name, options.days));
      if (options.json) {
        printJson(
          context.output,
          results.flatMap((days) => days ?? []),
        );
        return;
      }
      results.forEach((days, index) => {
        if (!days) return;
        if (index > 0) context.output.stdout.write('\n');
        context.output.stdout.write(`Queue: ${queues[index]}\n\n`);
        printTable(
          context.output,
          ['date (UTC)', 'processed', 'failed', 'error rate'],
          days.map((day) => [day.date, day.processed, day.failed, errorRate(day.processed, day.failed)]),
        );
      });
    });

  queue
    .command('pause')
    .description('pause one or more queues: servers stop taking their tasks')
    .argument('<queue...>', 'queue names')
    .action(async (queues: string[]) => {
      const inspector = await context.inspector();
      await eachQueue(context, queues, async (name) => {
        await inspector.pauseQueue(name);
        context.output.stdout.write(`Paused queue "${name}"\n`);
      });
    });

  queue
    .command('resume')
    .alias('unpause')
    .description('resume (unpause) one or more queues')
    .argument('<queue...>', 'queue names')
    .action(async (queues: string[]) => {
      const inspector = await context.inspector();
      await eachQueue(context, queues, async (name) => {
        await inspector.unpauseQueue(name);
        context.output.stdout.write(`Resumed queue "${name}"\n`);
      });
    });

  queue
    .command('rm')
    .aliases(['remove', 'delete'])
    .description('remove one or more queues')
    .argument('<queue...>', 'queue names')
    .option(
      '-f, --force',
      'remove the queue and its tasks even when it is not empty (never with active tasks)',
    )
    .action(async (queues: string[], options: { force?: boolean }) => {
      const inspector = await context.inspector();
      await eachQueue(context, queues, async (name) => {
        try {
          await inspector.deleteQueue(name, options.force ?? false);
        } catch (error) {
          if (QError.is(error) && error.code === 'Q_QUEUE_NOT_EMPTY') {
            throw new Error(`${error.message} If you are sure, run: q queue rm --force ${name}`, {
              cause: error,
            });
          }
          throw error;
        }
        context.output.stdout.write(`Removed queue "${name}"\n`);
      });
    });
}

/**
 * Runs `operation` for each queue in turn; a failure is reported and the others still run, as in Asynq.
 * The command then exits with the code of the first failure.
 */
export async function eachQueue<Result>(
  context: CliContext,
  queues: readonly string[],
  operation: (queue: string) => Promise<Result>,
): Promise<(Result | undefined)[]> {
  const results: (Result | undefined)[] = [];
  for (const name of queues) {
    try {
      results.push(await operation(name));
    } catch (error) {
      const described = describeError(error, context);
      // An unreachable Redis fails every queue the same way: stop at the first.
      if (described.exitCode === exitCodes.unreachable) throw error;
      context.output.stderr.write(`q: ${described.message}\n`);
      if (context.exitCode === 0) context.exitCode = described.exitCode;
      results.push(undefined);
    }
  }
  return results;
}

interface QueueListEntry {
  queue: string;
  limits?: QueueLimitsInfo;
  keySlot?: number;
  nodes?: ClusterNode[];
}

/** The queue's limits when it has any; undefined without (or with a broker that has no flow control). */
async function readLimits(inspector: Inspector, queue: string): Promise<QueueLimitsInfo | undefined> {
  let limits: QueueLimitsInfo;
  try {
    limits = await inspector.getQueueLimits(queue);
  } catch (error) {
    if (QError.is(error) && error.code === 'Q_BROKER' && /no flow control/.test(error.message))
      return undefined;
    throw error;
  }
  const limited =
    limits.concurrency !== undefined ||
    limits.rate !== undefined ||
    limits.pausedUntil !== undefined ||
    limits.perKey !== undefined;
  return limited ? limits : undefined;
}

function limitCells(limits: QueueLimitsInfo | undefined): string[] {
  if (!limits) return ['-', '-', ''];
  return [
    limits.concurrency === undefined ? '-' : String(limits.concurrency),
    limits.rate === undefined ? '-' : describeFlowRate(limits.rate),
    String(limits.running),
  ];
}

/** `off` / `none` in a limit flag: remove this limit. (Commander does not keep a parsed `null`.) */
const removeLimit = 'off';

/** A flag value, or `removeLimit`. */
function parseLimitValue<Value>(
  parse: (text: string) => Value,
): (text: string) => Value | typeof removeLimit {
  return (text) => (/^(off|none)$/i.test(text.trim()) ? removeLimit : parse(text));
}

function parseRate(text: string): FlowRate {
  try {
    return parseFlowRate(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function printLimits(output: Output, queue: string, limits: QueueLimitsInfo): void {
  output.stdout.write(`${bold(output, `Flow limits of queue "${queue}"`)}\n`);
  writeLimitLines(output, limits);
}

function writeLimitLines(output: Output, limits: QueueLimitsInfo): void {
  const concurrency =
    limits.concurrency === undefined
      ? 'none'
      : `${limits.concurrency} at once (${limits.running} running now, all servers)`;
  output.stdout.write(`Concurrency: ${concurrency}\n`);
  const rate =
    limits.rate === undefined
      ? 'none'
      : `${describeFlowRate(limits.rate)} (${limits.startedInWindow} started in the current window)`;
  output.stdout.write(`Rate:        ${rate}\n`);
  if (limits.pausedUntil) {
    output.stdout.write(
      `Paused:      until ${formatTime(limits.pausedUntil)} (a handler asked to come back later)\n`,
    );
  }
  const perKey = limits.perKey;
  if (perKey) {
    const keyLimits = [
      perKey.concurrency === undefined ? undefined : `concurrency ${perKey.concurrency}`,
      perKey.rate === undefined ? undefined : `rate ${describeFlowRate(perKey.rate)}`,
    ].filter((part) => part !== undefined);
    output.stdout.write(`Per key:     ${keyLimits.length > 0 ? keyLimits.join(', ') : 'none'}\n`);
    output.stdout.write(
      `Parked:      ${perKey.parked} tasks of ${perKey.parkedKeys} keys wait for their key's limit (counted as pending)\n`,
    );
    for (const key of perKey.keys) {
      output.stdout.write(
        `  ${key.key}: ${key.parked} waiting, ${key.running} running, ${key.startedInWindow} started in the window\n`,
      );
    }
  }
}

export function printQueueInfo(output: Output, info: QueueInfo): void {
  output.stdout.write(`${bold(output, 'Queue Info')}\n`);
  output.stdout.write(`Name:    ${info.queue}\n`);
  output.stdout.write(`Size:    ${info.size}\n`);
  output.stdout.write(`Groups:  ${info.groups}\n`);
  output.stdout.write(`Paused:  ${info.paused}\n`);
  output.stdout.write(`Latency: ${info.latency > 0 ? formatDuration(info.latency) : '0s'}\n`);
  output.stdout.write(`Memory:  ${info.memoryUsage} bytes (approximate)\n\n`);
  if (info.limits) {
    output.stdout.write(`${bold(output, 'Flow Limits')} (every @q server; Go Asynq servers ignore them)\n`);
    writeLimitLines(output, info.limits);
    output.stdout.write('\n');
  }
  output.stdout.write(`${bold(output, 'Task Count by State')}\n`);
  printTable(
    output,
    ['active', 'pending', 'aggregating', 'scheduled', 'retry', 'archived', 'completed'],
    [
      [
        info.active,
        info.pending,
        info.aggregating,
        info.scheduled,
        info.retry,
        info.archived,
        info.completed,
      ],
    ],
  );
  output.stdout.write(`\n${bold(output, `Daily Stats ${formatTime(info.timestamp).slice(0, 10)} UTC`)}\n`);
  printTable(
    output,
    ['processed', 'failed', 'error rate', 'processed total', 'failed total'],
    [
      [
        info.processedToday,
        info.failedToday,
        errorRate(info.processedToday, info.failedToday),
        info.processedTotal,
        info.failedTotal,
      ],
    ],
  );
}
