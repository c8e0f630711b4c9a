/**
 * Spawns a battery process (`node --conditions=@q/source --import tsx <file>`), collects its JSON log
 * lines and its stderr, and records how it ended.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface LogLine {
  level: string;
  time: number;
  msg: string;
  event?: string;
  [field: string]: unknown;
}

export interface ChildHandle {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly lines: LogLine[];
  /** Everything the process wrote, raw (stdout and stderr), for canary checks. */
  output(): string;
  stderr(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  readonly running: boolean;
  kill(signal?: NodeJS.Signals): void;
  waitForLine(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

export function spawnChild(options: {
  name: string;
  script: string;
  env: Record<string, string>;
  /** Extra options for node itself, such as `--expose-gc`. */
  nodeOptions?: readonly string[];
}): ChildHandle {
  const script = resolve(dirname(fileURLToPath(import.meta.url)), options.script);
  const nodeArguments = [...(options.nodeOptions ?? []), '--conditions=@q/source', '--import', 'tsx', script];
  const child = spawn(process.execPath, nodeArguments, {
    cwd: repositoryRoot,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const waiters = new Set<() => void>();
  let raw = '';
  let stderr = '';
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    raw += text;
    buffered += text;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
      if (!line.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        // A line cut by SIGKILL.
      }
    }
    for (const waiter of waiters) waiter();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    raw += chunk.toString();
  });
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>(
    (resolveExit) => {
      child.once('exit', (code, signal) => {
        running = false;
        resolveExit({ code, signal, at: Date.now() });
        for (const waiter of waiters) waiter();
      });
    },
  );
  return {
    name: options.name,
    child,
    pid: child.pid!,
    lines,
    output: () => raw,
    stderr: () => stderr,
    exited,
    get running() {
      return running;
    },
    kill(signal = 'SIGKILL') {
      if (running) child.kill(signal);
    },
    waitForLine(predicate, timeoutMs = 30_000) {
      return new Promise((resolveLine, reject) => {
        const check = (): void => {
          const found = lines.find(predicate);
          if (found) {
            finish();
            resolveLine(found);
          } else if (!running) {
            finish();
            reject(new Error(`${options.name} exited before the expected log line\n${stderr.slice(-2000)}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(
            new Error(
              `${options.name}: no matching log line within ${timeoutMs} ms\n${stderr.slice(-2000)}\n${lines
                .slice(-10)
                .map((line) => JSON.stringify(line).slice(0, 300))
                .join('\n')}`,
            ),
          );
        }, timeoutMs);
        const finish = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}
