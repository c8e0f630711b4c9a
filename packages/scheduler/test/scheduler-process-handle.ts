/** Starts `scheduler-process.ts` as a real child process and reads what it prints. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ProcessEvent {
  pid: number;
  event: 'started' | 'tick' | 'stopped';
  entryId?: string;
  taskId?: string;
  tickAt?: number;
  catchUp?: boolean;
  status?: string;
  foundBy?: 'history' | 'taskId';
  entryIds?: string[];
}

export interface SchedulerProcessHandle {
  readonly child: ChildProcess;
  readonly events: ProcessEvent[];
  readonly stderr: () => string;
  /** Resolves with the first event that matches, or rejects after `timeout` milliseconds. */
  waitFor(predicate: (event: ProcessEvent) => boolean, timeout?: number): Promise<ProcessEvent>;
  /** SIGTERM, then waits for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

const script = fileURLToPath(new URL('./scheduler-process.ts', import.meta.url));
const repositoryRoot = fileURLToPath(new URL('../../..', import.meta.url));

export function startSchedulerProcess(environment: Record<string, string>): SchedulerProcessHandle {
  const child = spawn(process.execPath, ['--conditions=@q/source', '--import', 'tsx', script], {
    cwd: repositoryRoot,
    env: { ...process.env, ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: ProcessEvent[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        events.push(JSON.parse(line) as ProcessEvent);
      } catch {
        stderr += `(stdout) ${line}\n`;
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  return {
    child,
    events,
    stderr: () => stderr,
    waitFor(predicate, timeout = 15_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = events.find(predicate);
          if (!found) return false;
          cleanup();
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for a process event; stderr:\n${stderr}`));
        }, timeout);
        const onExit = (): void => {
          if (check()) return;
          cleanup();
          reject(new Error(`the scheduler process exited; stderr:\n${stderr}`));
        };
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(wake);
          child.off('exit', onExit);
        };
        const wake = (): void => void check();
        waiters.add(wake);
        child.once('exit', onExit);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
