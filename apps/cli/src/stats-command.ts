import type { Command } from 'commander';
import type { CliContext } from './cli-context';
import { bold, printJson, printTable } from './output';
import { formatDuration, formatTime } from './time-format';

const states = ['active', 'pending', 'aggregating', 'scheduled', 'retry', 'archived', 'completed'] as const;

export function registerStatsCommand(program: Command, context: CliContext): void {
  program
    .command('stats')
    .description(
      "show task counts by state and by queue, today's processed and failed counts, and Redis facts",
    )
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const inspector = await context.inspector();
      const names = await inspector.queues();
      const queues = await Promise.all(names.map((name) => inspector.getQueueInfo(name)));
      const store = await inspector.storeInfo().catch(() => undefined);
      const aggregate = {
        active: 0,
        pending: 0,
        aggregating: 0,
        scheduled: 0,
        retry: 0,
        archived: 0,
        completed: 0,
        processed: 0,
        failed: 0,
        timestamp: new Date(),
      };
      for (const queue of queues) {
        for (const state of states) aggregate[state] += queue[state];
        aggregate.processed += queue.processedToday;
        aggregate.failed += queue.failedToday;
      }
      if (options.json) {
        printJson(context.output, { aggregate, queues, redis: store ?? null });
        return;
      }
      const { output } = context;
      output.stdout.write(`${bold(output, 'Task Count by State')}\n`);
      printTable(output, states, [states.map((state) => aggregate[state])]);
      output.stdout.write(`\n${bold(output, 'Task Count by Queue')}\n`);
      if (queues.length === 0) {
        output.stdout.write('No queues\n');
      } else {
        printTable(
          output,
          ['queue', 'size', 'pending', 'active', 'latency', 'paused'],
          queues.map((queue) => [
            queue.queue,
            queue.size,
            queue.pending,
            queue.active,
            queue.latency > 0 ? formatDuration(queue.latency) : '-',
            queue.paused ? 'yes' : 'no',
          ]),
        );
      }
      output.stdout.write(
        `\n${bold(output, `Daily Stats ${formatTime(aggregate.timestamp).slice(0, 10)} UTC`)}\n`,
      );
      printTable(
        output,
        ['processed', 'failed', 'error rate'],
        [[aggregate.processed, aggregate.failed, errorRate(aggregate.processed, aggregate.failed)]],
      );
      if (store) {
        const details = store.details;
        output.stdout.write(
          `\n${bold(output, store.mode === 'partitioned' ? 'Redis Cluster Info' : 'Redis Info')}\n`,
        );
        printTable(
          output,
          [
            'version',
            'mode',
            'uptime',
            'connections',
            'memory usage',
            'peak memory usage',
            'maxmemory-policy',
          ],
          [
            [
              store.version,
              // Redis's own word (standalone, cluster), as Asynq's CLI prints it.
              details.redis_mode ?? store.mode,
              details.uptime_in_days !== undefined ? `${details.uptime_in_days} days` : '',
              details.connected_clients ?? '',
              details.used_memory_human ?? store.usedMemory ?? '',
              details.used_memory_peak_human ?? '',
              store.evictionPolicy ?? '',
            ],
          ],
        );
      }
    });
}

export function errorRate(processed: number, failed: number): string {
  return processed === 0 ? 'N/A' : `${((failed / processed) * 100).toFixed(2)}%`;
}
