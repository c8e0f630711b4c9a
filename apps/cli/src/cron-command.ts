import type { Command } from 'commander';
import { parsePositiveInteger } from './argument-parsers';
import type { CliContext } from './cli-context';
import { printableBytes, printJson, printTable } from './output';
import { eachQueue } from './queue-command';
import { formatDuration, formatTime } from './time-format';

export function registerCronCommand(program: Command, context: CliContext): void {
  const cron = program.command('cron').description('see periodic tasks and their history');

  cron
    .command('ls')
    .alias('list')
    .description('list the entries of the live schedulers')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const inspector = await context.inspector();
      const entries = await inspector.schedulerEntries();
      if (options.json) {
        printJson(context.output, entries);
        return;
      }
      if (entries.length === 0) {
        context.output.stdout.write('No scheduler entries\n');
        return;
      }
      const now = Date.now();
      printTable(
        context.output,
        ['EntryID', 'Spec', 'Type', 'Payload', 'Options', 'Next', 'Prev'],
        entries.map((entry) => {
          const wait = entry.nextEnqueueAt.getTime() - now;
          return [
            entry.id,
            entry.spec,
            entry.taskType,
            printableBytes(entry.payload),
            entry.options.join(', '),
            wait <= 0 ? 'Now' : `In ${formatDuration(wait)}`,
            entry.previousEnqueueAt
              ? `${formatDuration(now - entry.previousEnqueueAt.getTime())} ago`
              : 'N/A',
          ];
        }),
      );
    });

  cron
    .command('history')
    .description('show the enqueues of one or more entries, newest first')
    .argument('<entry...>', 'entry ids (see q cron ls)')
    .option('--page <page>', 'page number, from 1', parsePositiveInteger, 1)
    .option('--size <size>', 'page size', parsePositiveInteger, 30)
    .option('--json', 'print JSON')
    .action(async (entryIds: string[], options: { page: number; size: number; json?: boolean }) => {
      const inspector = await context.inspector();
      const results = await eachQueue(context, entryIds, (entryId) =>
        inspector.listSchedulerEnqueueEvents(entryId, { page: options.page, pageSize: options.size }),
      );
      if (options.json) {
        printJson(
          context.output,
          entryIds.map((entryId, index) => ({ entryId, events: results[index] ?? [] })),
        );
        return;
      }
      entryIds.forEach((entryId, index) => {
        const events = results[index];
        if (!events) return;
        if (index > 0) context.output.stdout.write('\n');
        context.output.stdout.write(`Entry: ${entryId}\n\n`);
        if (events.length === 0) {
          context.output.stdout.write(`No enqueue events for entry ${entryId}\n`);
          return;
        }
        printTable(
          context.output,
          ['TaskID', 'EnqueuedAt'],
          events.map((event) => [event.taskId, formatTime(event.enqueuedAt)]),
        );
      });
    });
}
