import { QError } from '@q/core';
import type { QueueInfo } from '@q/inspector';
import type { Command } from 'commander';
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
    .description('list queues (with their cluster key slot and nodes under --cluster)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const inspector = await context.inspector();
      const names = await inspector.queues();
      if (!context.connection.cluster) {
        if (options.json) printJson(context.output, names);
        else context.output.stdout.write(names.length > 0 ? `${names.join('\n')}\n` : 'No queues\n');
        return;
      }
      const located = await Promise.all(
        names.map(async (name) => ({
          queue: name,
          keySlot: await inspector.clusterKeySlot(name),
          nodes: await inspector.clusterNodes(name),
        })),
      );
      if (options.json) {
        printJson(context.output, located);
        return;
      }
      printTable(
        context.output,
        ['Queue', 'Cluster KeySlot', 'Cluster Nodes'],
        located.map((entry) => [
          entry.queue,
          entry.keySlot,
          entry.nodes.map((node) => node.address).join(' '),
        ]),
      );
    });

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

export function printQueueInfo(output: Output, info: QueueInfo): void {
  output.stdout.write(`${bold(output, 'Queue Info')}\n`);
  output.stdout.write(`Name:    ${info.queue}\n`);
  output.stdout.write(`Size:    ${info.size}\n`);
  output.stdout.write(`Groups:  ${info.groups}\n`);
  output.stdout.write(`Paused:  ${info.paused}\n`);
  output.stdout.write(`Latency: ${info.latency > 0 ? formatDuration(info.latency) : '0s'}\n`);
  output.stdout.write(`Memory:  ${info.memoryUsage} bytes (approximate)\n\n`);
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
