import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const packageDirectory = fileURLToPath(new URL('..', import.meta.url));

/** Runs `test/fixtures/<name>.ts` in a child Node process (TypeScript through tsx, sources through `@q/source`). */
export function spawnFixture(name: string, args: readonly string[]) {
  const script = fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url));
  return spawn(process.execPath, ['--conditions=@q/source', '--import', 'tsx', script, ...args], {
    cwd: packageDirectory,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs a fixture to its end; rejects with its stderr when it fails. */
export function runFixture(name: string, args: readonly string[]): Promise<void> {
  const child = spawnFixture(name, args);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${name} exited with ${code}: ${stderr}`)),
    );
  });
}
