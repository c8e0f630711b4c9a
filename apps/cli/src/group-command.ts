import type { Command } from 'commander';
import type { CliContext } from './cli-context';
import { printJson, printTable } from './output';

export function registerGroupCommand(program: Command, context: CliContext): void {
  const group = program.command('group').description('manage groups of aggregating tasks');
  group
    .command('ls')
    .alias('list')
    .description('list the groups of a queue with their sizes')
    .requiredOption('-q, --queue <queue>', 'the queue')
    .option('--json', 'print JSON')
    .action(async (options: { queue: string; json?: boolean }) => {
      const inspector = await context.inspector();
      const groups = await inspector.groups(options.queue);
      if (options.json) printJson(context.output, groups);
      else if (groups.length === 0) context.output.stdout.write(`No groups in queue "${options.queue}"\n`);
      else
        printTable(
          context.output,
          ['Group', 'Size'],
          groups.map((entry) => [entry.group, entry.size]),
        );
    });
}
