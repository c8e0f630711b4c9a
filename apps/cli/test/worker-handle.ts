/** Starts `worker-process.ts` as a child process, from the sources, for tests that need a real server. */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerConfig } from './worker-process';

const here = dirname(fileURLToPath(import.meta.url));
const repositoryRoot = resolve(here, '../../..');

export interface WorkerHandle {
  child: ChildProcess;
  output: () => string;
  /** Kills the worker (SIGKILL) and waits for it to be gone. */
  stop(): Promise<void>;
}

export function startWorker(config: WorkerConfig): WorkerHandle {
  const child = spawn(
    process.execPath,
    ['--conditions=@q/source', '--import', 'tsx', resolve(here, 'worker-process.ts')],
    {
      cwd: repositoryRoot,
      env: { ...process.env, Q_DOCTOR_WORKER: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
