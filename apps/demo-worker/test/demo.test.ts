/**
 * Walks the README: starts the demo as `npm start` does (from sources, no build) on a redis-server of its
 * own, sends TSTP, USR2, CONT and TERM, and checks what the README says the reader will see; while the
 * demo is quiet, runs the README's `q` command lines exactly as written, in the repository.
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { startRedisServer } from '../../../test/redis-server';

const demoDirectory = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repositoryRoot = resolve(demoDirectory, '../..');

/** The `npm run q -- …` lines of the README's shell blocks, as a reader would paste them. */
function readmeQLines(): string[] {
  const readme = readFileSync(resolve(demoDirectory, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
  return blocks.flatMap((block) => block.split('\n')).filter((line) => line.startsWith('npm run q -- '));
}

/** Runs a command line in a shell from the repository root; resolves with its exit code and output. */
function runLine(
  line: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    execFile('sh', ['-c', line], { cwd: repositoryRoot, env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolveRun({ code, stdout, stderr });
    });
  });
}

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

it('runs from sources, quiets on TSTP, dumps on USR2, resumes on CONT and exits 0 after TERM', async () => {
  const redis = await startRedisServer();
  const child = spawn(process.execPath, ['--conditions=@q/source', '--import', 'tsx', 'src/main.ts'], {
    cwd: demoDirectory,
    env: { ...process.env, REDIS_URL: redis.url, LOG_FORMAT: 'json', LOG_LEVEL: 'debug' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let buffered = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const part of parts) if (part.startsWith('{')) lines.push(JSON.parse(part) as LogLine);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  const waitFor = async (predicate: (line: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = lines.find(predicate);
      if (found) return found;
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(`expected log line not seen\n${stderr}\n${lines.map((line) => line.msg).join('\n')}`);
      }
      await new Promise((resolveWait) => setTimeout(resolveWait, 50));
    }
  };

  try {
    await waitFor((line) => line.msg.startsWith('worker running'));
    await waitFor((line) => line.msg.startsWith('done '));

    child.kill('SIGTSTP');
    await waitFor((line) => line.msg.startsWith('SIGTSTP received: running -> quiet'));

    // The README's q lines, pasted as written while the demo runs (the demo's REDIS_URL is in the shell).
    const qLines = readmeQLines();
    expect(qLines).toEqual(['npm run q -- server ls', 'npm run q -- doctor']);
    const qEnv: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: redis.url };
    delete qEnv.Q_REDIS_URL;
    // A newcomer's shell has none of the settings a package manager running this suite exports (under
    // `pnpm test`, npm would warn about pnpm's own `npm_config_*` keys).
    for (const key of Object.keys(qEnv)) if (key.startsWith('npm_config_')) delete qEnv[key];
    const serverLs = await runLine(qLines[0]!, qEnv);
    expect(serverLs.stderr).toBe('');
    expect(serverLs.code).toBe(0);
    const row = serverLs.stdout.split('\n').find((text) => text.includes(String(child.pid)));
    expect(row).toMatch(/\bquiet\b.*SIGTSTP (now|\d+s ago)/); // "now" when read within a second
    const doctor = await runLine(qLines[1]!, qEnv);
    expect(doctor.code).toBe(4);
    expect(doctor.stdout).toContain(`is quiet: it finishes its running tasks but fetches no new ones`);
    expect(doctor.stdout).toMatch(/Last signal: SIGTSTP at /);
    expect(doctor.stdout).toContain(`kill -CONT ${child.pid}`);
    child.kill('SIGUSR2');
    const dump = await waitFor((line) => line.dump !== undefined);
    expect(dump.dump).toMatchObject({
      state: 'quiet',
      recentSignals: [{ signal: 'SIGTSTP' }, { signal: 'SIGUSR2' }],
    });
    child.kill('SIGCONT');
    await waitFor((line) => line.msg.startsWith('SIGCONT received: quiet -> running'));

    child.kill('SIGTERM');
    await waitFor((line) => line.msg.startsWith('graceful shutdown started by SIGTERM'));
    expect(await exited).toBe(0);
    expect(lines.some((line) => line.msg.startsWith('shutdown finished'))).toBe(true);
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    expect(stderr).toBe('');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await redis.stop();
  }
}, 120_000);
