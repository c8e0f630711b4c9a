/** `pnpm bench`: runs the bench from the command line, prints the table and where the results went. */
import { fileURLToPath } from 'node:url';
import { parseBenchArguments, usage, UsageError } from './bench-options';
import { runBench } from './run-bench';

const defaultOutputDirectory = fileURLToPath(new URL('../results/', import.meta.url));

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    process.stdout.write(usage);
    return 0;
  }
  let options;
  try {
    options = parseBenchArguments(argv, defaultOutputDirectory);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${usage}`);
    return 2;
  }
  const outcome = await runBench(options, (line) => process.stdout.write(`${line}\n`));
  process.stdout.write(`\n${outcome.table}\n\nResults: ${outcome.jsonPath}\n`);
  const failed = outcome.report.rows.some((row) => row.errors.length > 0);
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
