/** The bench's command line: sizes, rounds, which scenarios and systems, profiling. */
import { systemNames, type SystemName } from './measurement';
import { scenarioNames, type BenchSizes } from './scenarios';

export interface BenchOptions {
  sizes: BenchSizes;
  rounds: number;
  /** Scenario names to run, in the order of `scenarioNames`. */
  scenarios: string[];
  systems: SystemName[];
  /** Run each measurement's process with `--cpu-prof`, profiles next to the results. */
  profile: boolean;
  /** Where the JSON and Markdown results go. */
  outputDirectory: string;
  /**
   * Run measurements in this process instead of a child process each (faster to start, less isolated:
   * for the smoke test and for debugging).
   * @default false
   */
  inProcess?: boolean;
  /**
   * Measure the TypeScript sources of the work tree (through tsx) instead of the built packages, which
   * are what users install. Faster to iterate (nothing is built), but tsx keeps function names, which
   * costs a little on every closure made.
   * @default false
   */
  sources?: boolean;
}

/** Sizes of a full run: about 15 minutes on a 2-core machine with the default 3 rounds. */
export const fullSizes: BenchSizes = {
  enqueueCount: 20_000,
  enqueueInFlight: 100,
  bulkCount: 100_000,
  bulkBatchSize: 1000,
  drainCount: 100_000,
  pickupSamples: 1000,
  pickupGapMs: 5,
  memoryCount: 100_000,
  weightedPerQueue: 20_000,
  backlogSizes: [10_000, 100_000],
  queueScalingTotal: 50_000,
  queueCounts: [1, 10, 50],
};

/** A fifth of the work, for a look in two or three minutes. */
export const quickSizes: BenchSizes = {
  ...fullSizes,
  enqueueCount: 5000,
  bulkCount: 20_000,
  drainCount: 20_000,
  pickupSamples: 200,
  memoryCount: 20_000,
  weightedPerQueue: 4000,
  backlogSizes: [2000, 20_000],
  queueScalingTotal: 10_000,
};

export const usage = `Usage: pnpm bench [options]

  --quick              smaller sizes and 2 rounds (a few minutes)
  --scenario NAME      run only this scenario; repeat or separate with commas
                       (${scenarioNames.join(', ')})
  --rounds N           rounds per measurement (default 3; 2 with --quick)
  --with-1m            add a backlog of 1,000,000 pending tasks (long: about 10 minutes more per round)
  --systems LIST       which of q, bullmq, floor to run (default all)
  --profile            write a V8 CPU profile of every measurement process next to the results
  --out DIR            where to write the results (default bench/results)
  --sources            measure the work tree's TypeScript sources through tsx instead of the built
                       packages (nothing is built first; tsx costs a little per closure)
  --in-process         run measurements in this process, not one child process each (debugging; it
                       runs the sources)
  --help               this text
`;

export class UsageError extends Error {}

export function parseBenchArguments(argv: readonly string[], defaultOutputDirectory: string): BenchOptions {
  let quick = false;
  let rounds: number | undefined;
  let withMillion = false;
  let profile = false;
  let inProcess = false;
  let sources = false;
  let outputDirectory = defaultOutputDirectory;
  const scenarios: string[] = [];
  let systems: SystemName[] = [...systemNames];
  const value = (index: number, flag: string): string => {
    const found = argv[index + 1];
    if (found === undefined || found.startsWith('--')) throw new UsageError(`${flag} needs a value.`);
    return found;
  };
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index];
    switch (argument) {
      case '--':
        break;
      case '--quick':
        quick = true;
        break;
      case '--with-1m':
        withMillion = true;
        break;
      case '--profile':
        profile = true;
        break;
      case '--in-process':
        inProcess = true;
        break;
      case '--sources':
        sources = true;
        break;
      case '--rounds': {
        rounds = Number(value(index++, argument));
        if (!Number.isInteger(rounds) || rounds < 1)
          throw new UsageError('--rounds takes a whole number ≥ 1.');
        break;
      }
      case '--scenario':
        scenarios.push(...value(index++, argument).split(','));
        break;
      case '--systems':
        systems = value(index++, argument).split(',') as SystemName[];
        break;
      case '--out':
        outputDirectory = value(index++, argument);
        break;
      default:
        throw new UsageError(`Unknown argument ${String(argument)}.`);
    }
  }
  const unknownScenario = scenarios.find((name) => !(scenarioNames as readonly string[]).includes(name));
  if (unknownScenario) {
    throw new UsageError(`Unknown scenario "${unknownScenario}"; choose from ${scenarioNames.join(', ')}.`);
  }
  const unknownSystem = systems.find((name) => !systemNames.includes(name));
  if (unknownSystem) throw new UsageError(`Unknown system "${unknownSystem}"; choose from q, bullmq, floor.`);
  const sizes = { ...(quick ? quickSizes : fullSizes) };
  if (withMillion) sizes.backlogSizes = [...sizes.backlogSizes, 1_000_000];
  return {
    sizes,
    rounds: rounds ?? (quick ? 2 : 3),
    scenarios:
      scenarios.length > 0 ? scenarioNames.filter((name) => scenarios.includes(name)) : [...scenarioNames],
    systems,
    profile,
    outputDirectory,
    inProcess,
    sources,
  };
}
