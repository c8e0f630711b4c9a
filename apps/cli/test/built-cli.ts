/**
 * Builds the q command once per change and runs it as a subprocess. Test files run in parallel: a lock
 * directory makes one of them build while the others wait, and a build newer than every source it
 * bundles is reused.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const cliRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const cliBinary = join(cliRoot, 'dist', 'main.js');
const repositoryRoot = resolve(cliRoot, '..', '..');
const lockDirectory = join(
  tmpdir(),
  `q-cli-build-${createHash('sha1').update(cliRoot).digest('hex').slice(0, 12)}.lock`,
);

function newestSource(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const path = join(directory, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (/\.(ts|tsx|css|json|lua|proto)$/.test(entry.name))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function isFresh(): boolean {
  let built: number;
  try {
    built = statSync(cliBinary).mtimeMs;
  } catch {
    return false;
  }
  const sources = [join(cliRoot, 'src'), join(cliRoot, 'tsup.config.ts'), join(repositoryRoot, 'packages')];
  return sources.every((source) => {
    const stats = statSync(source);
    return (stats.isDirectory() ? newestSource(source) : stats.mtimeMs) <= built;
  });
}

/** Builds dist/main.js unless it is newer than its sources. */
export async function buildCli(): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lockDirectory);
      break;
    } catch {
      // Another test file is building; a lock older than two minutes was left by a crash.
      try {
        if (Date.now() - statSync(lockDirectory).mtimeMs > 120_000)
          rmSync(lockDirectory, { recursive: true, force: true });
      } catch {
        // Released meanwhile.
      }
      if (Date.now() > deadline)
        throw new Error('Timed out waiting for another test file to build the q command.');
      await new Promise((done) => setTimeout(done, 200));
    }
  }
  try {
    if (!isFresh()) execFileSync('pnpm', ['exec', 'tsup'], { cwd: cliRoot, stdio: 'pipe' });
  } finally {
    rmSync(lockDirectory, { recursive: true, force: true });
  }
}

export interface QResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the built q command; never rejects, the exit code tells. */
export function runQ(
  args: readonly string[],
  options: { env?: Record<string, string>; timeout?: number } = {},
): Promise<QResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [cliBinary, ...args],
      {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', ...options.env },
        timeout: options.timeout ?? 20_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ exitCode: code, stdout, stderr });
      },
    );
  });
}
