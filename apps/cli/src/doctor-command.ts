import type { Diagnosis, Finding } from '@q/inspector';
import type { Command } from 'commander';
import { parseDuration, parsePositiveInteger } from './argument-parsers';
import { describeFindingAction } from './describe-finding-action';
import type { CliContext } from './cli-context';
import { exitCodes } from './exit-codes';
import { bold, printJson, type Output } from './output';
import { formatTime } from './time-format';

interface DoctorFlags {
  json?: boolean;
  sample?: number;
  stalledAfter?: number;
  longRunningAfter?: number;
  clockTolerance?: number;
  failureSample?: number;
}

export function registerDoctorCommand(program: Command, context: CliContext): void {
  program
    .command('doctor')
    .description("why aren't my tasks running? checks queues, servers and Redis, and says what to do")
    .argument('[queue]', 'look at this queue only (and the servers that serve it)')
    .option(
      '--sample <duration>',
      "read the queues twice this far apart to see whether backlogs move, e.g. '2s'",
      parseDuration,
    )
    .option(
      '--stalled-after <duration>',
      'a pending task waiting this long while nothing runs is stuck',
      parseDuration,
    )
    .option(
      '--long-running-after <duration>',
      'a task running this long counts as long-running',
      parseDuration,
    )
    .option('--clock-tolerance <duration>', 'report clocks further apart than this', parseDuration)
    .option(
      '--failure-sample <count>',
      'retry and archived tasks read per queue to look for missing handlers',
      parsePositiveInteger,
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit status: 0 when nothing is wrong (notes may still be printed), 4 when a problem was found, 3 when Redis cannot be reached.',
    )
    .action(async (queue: string | undefined, flags: DoctorFlags) => {
      const inspector = await context.inspector();
      const diagnosis = await inspector.diagnose(queue, {
        ...(flags.sample !== undefined ? { sampleInterval: flags.sample } : {}),
        ...(flags.stalledAfter !== undefined ? { stalledAfter: flags.stalledAfter } : {}),
        ...(flags.longRunningAfter !== undefined ? { longRunningAfter: flags.longRunningAfter } : {}),
        ...(flags.clockTolerance !== undefined ? { clockSkewTolerance: flags.clockTolerance } : {}),
        ...(flags.failureSample !== undefined ? { failureSampleSize: flags.failureSample } : {}),
      });
      if (flags.json) printJson(context.output, diagnosis);
      else printDiagnosis(context.output, diagnosis);
      if (!diagnosis.healthy) context.exitCode = exitCodes.problemsFound;
    });
}

const labels: Record<Finding['severity'], string> = { error: 'ERROR', warning: 'WARNING', info: 'NOTE' };

export function printDiagnosis(output: Output, diagnosis: Diagnosis): void {
  const problems = diagnosis.findings.filter((finding) => finding.severity !== 'info').length;
  const scope = `${diagnosis.queues.length} queue${diagnosis.queues.length === 1 ? '' : 's'} and ${diagnosis.servers} live server${diagnosis.servers === 1 ? '' : 's'}`;
  output.stdout.write(
    `${bold(output, problems === 0 ? `No problems found in ${scope}.` : `${problems} problem${problems === 1 ? '' : 's'} found in ${scope}.`)} (checked ${formatTime(diagnosis.checkedAt)})\n`,
  );
  for (const finding of diagnosis.findings) {
    const where = [
      finding.queue ? `queue ${finding.queue}` : '',
      finding.server ? `server ${finding.server}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    output.stdout.write(
      `\n${bold(output, `${labels[finding.severity]} ${finding.code}`)}${where ? ` (${where})` : ''}\n`,
    );
    output.stdout.write(`  ${finding.summary}\n`);
    for (const line of finding.evidence) output.stdout.write(`    - ${line}\n`);
    const [first, ...others] = finding.actions.map(describeFindingAction);
    if (first !== undefined && others.length === 0) output.stdout.write(`  What to do: ${first}\n`);
    else if (first !== undefined) {
      output.stdout.write('  What to do:\n');
      for (const line of [first, ...others]) output.stdout.write(`    * ${line}\n`);
    }
  }
  if (diagnosis.skipped.length > 0) {
    output.stdout.write('\nNot checked:\n');
    for (const line of diagnosis.skipped) output.stdout.write(`  - ${line}\n`);
  }
}
