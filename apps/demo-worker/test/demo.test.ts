/**
 * Walks the README: starts the demo as `npm start` does (from sources, no build) on a redis-server of its
 * own, sends TSTP, USR2, CONT and TERM, and checks what the README says the reader will see.
 */
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { startRedisServer } from '../../../test/redis-server';

const demoDirectory = resolve(dirname(fileURLToPath(import.meta.url)), '..');

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
}, 60_000);
