/**
 * Starts `worker-process.ts` as a real child process, collects its JSON log lines, and measures when it
 * exits, so that the process tests can send it real signals and hold it to the figures of docs/reliability.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRedisBroker, type RedisBroker } from '@q/broker-redis';
import { Client } from '@q/client';
import type { WorkerConfig } from './worker-process';

export const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const workerScript = resolve(dirname(fileURLToPath(import.meta.url)), 'worker-process.ts');

export interface LogLine {
  level: string;
  time: number;
  msg: string;
  event?: string;
  taskId?: string;
  signal?: string;
  [field: string]: unknown;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

export interface WorkerHandle {
  child: ChildProcess;
  lines: LogLine[];
  stderr: () => string;
  exited: Promise<WorkerExit>;
  /** Sends `signal` to the worker and returns when it was sent. */
  send(signal: NodeJS.Signals): number;
  waitForLine(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  count(predicate: (line: LogLine) => boolean): number;
  /** SIGKILLs the worker if it is still running. */
  kill(): void;
}

/** Quotes `word` for a POSIX shell. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

export function uniquePrefix(name: string): string {
  return `q-signals-test-${name}-${randomUUID().slice(0, 8)}`;
}

export interface SpawnOptions {
  /** Wraps the worker's command line, e.g. in `unshare --pid --fork` or `script` (a terminal). */
  wrapCommand?: (command: string[]) => string[];
  /** The pid to send signals to, when the wrapper's child is not the worker itself. */
  signalTarget?: (child: ChildProcess) => number;
}

export function spawnWorker(config: WorkerConfig, options: SpawnOptions = {}): WorkerHandle {
  const worker = [process.execPath, '--conditions=@q/source', '--import', 'tsx', workerScript];
  const command = options.wrapCommand ? options.wrapCommand(worker) : worker;
  const child = spawn(command[0]!, command.slice(1), {
    cwd: repositoryRoot,
    env: { ...process.env, Q_TEST_WORKER: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      // A terminal (see `script`) ends lines with \r\n.
      const text = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
      if (!text.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(text) as LogLine);
      } catch {
        continue;
      }
    }
    for (const waiter of waiters) waiter();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<WorkerExit>((resolveExit) => {
    child.once('exit', (code, signal) => {
      resolveExit({ code, signal, at: Date.now() });
      for (const waiter of waiters) waiter();
    });
  });

  const waitForLine = (predicate: (line: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> =>
    new Promise((resolveLine, reject) => {
      const check = (): void => {
        const found = lines.find(predicate);
        if (found) {
          finish();
          resolveLine(found);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          finish();
          reject(new Error(`the worker exited before the expected log line\n${stderr}\n${tail(lines)}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no matching log line within ${timeoutMs} ms\n${stderr}\n${tail(lines)}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    send: (signal) => {
      const target = options.signalTarget ? options.signalTarget(child) : child.pid!;
      process.kill(target, signal);
      return Date.now();
    },
    waitForLine,
    count: (predicate) => lines.filter(predicate).length,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

export interface RunningWorker {
  prefix: string;
  /** A broker and a client of the test's own, on the worker's Redis and prefix. */
  broker: RedisBroker;
  client: Client;
  worker: WorkerHandle;
  /** The worker's "worker running" log line. */
  running: LogLine;
}

/**
 * Spawns a worker under a fresh prefix named after `name`, with a broker and a client on the same Redis
 * and prefix, waits until the worker runs, and runs `test`. Afterwards, whatever happened, the worker is
 * killed if still running and the broker closed.
 */
export async function withRunningWorker(
  name: string,
  config: Omit<WorkerConfig, 'prefix'>,
  test: (run: RunningWorker) => Promise<void>,
): Promise<void> {
  const prefix = uniquePrefix(name);
  const broker = createRedisBroker({ url: config.redisUrl, prefix });
  const client = new Client({ broker });
  const worker = spawnWorker({ ...config, prefix });
  try {
    const running = await worker.waitForLine(isWorkerRunning);
    await test({ prefix, broker, client, worker, running });
  } finally {
    worker.kill();
    await broker.close();
  }
}

/** Sends `signal` and waits for the worker to exit; `elapsed` is from the signal to the exit, in ms. */
export async function exitAfter(
  worker: WorkerHandle,
  signal: NodeJS.Signals,
): Promise<{ exit: WorkerExit; elapsed: number }> {
  const sentAt = worker.send(signal);
  const exit = await worker.exited;
  return { exit, elapsed: exit.at - sentAt };
}

function tail(lines: readonly LogLine[]): string {
  return lines
    .slice(-15)
    .map((line) => JSON.stringify(line).slice(0, 300))
    .join('\n');
}

/** Prints a measured figure beside the test, so that the report can quote it. */
export function reportFigure(test: string, figure: string): void {
  process.stdout.write(`[figure] ${test}: ${figure}\n`);
}

export const isWorkerRunning = (line: LogLine): boolean => line.msg.startsWith('worker running');
export const isTaskStarted = (line: LogLine): boolean => line.event === 'task-started';
export const isTaskFinished = (line: LogLine): boolean => line.event === 'task-finished';
export const isTaskAborted = (line: LogLine): boolean => line.event === 'task-aborted';
export const isGracefulShutdownStarted = (line: LogLine): boolean =>
  line.msg.startsWith('graceful shutdown started');
export const isForcedShutdownStarted = (line: LogLine): boolean =>
  line.msg.startsWith('forced shutdown started');
export const signalReceived =
  (signal: string) =>
  (line: LogLine): boolean =>
    line.signal === signal && typeof line.outcome === 'string';
