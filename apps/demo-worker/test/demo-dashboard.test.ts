/** `npm start` serves the web dashboard and prints its address among its first lines. */
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { startRedisServer } from '../../../test/redis-server';

const demoDirectory = resolve(dirname(fileURLToPath(import.meta.url)), '..');

it('serves the dashboard on loopback and says where in its first lines', async () => {
  const redis = await startRedisServer();
  const child = spawn(process.execPath, ['--conditions=@q/source', '--import', 'tsx', 'src/main.ts'], {
    cwd: demoDirectory,
    env: { ...process.env, REDIS_URL: redis.url, LOG_FORMAT: 'json', DASHBOARD_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  try {
    await expect.poll(() => stdout, { timeout: 20_000 }).toMatch(/dashboard at http:\/\/127\.0\.0\.1:\d+\//);
    const lines = stdout.split('\n').filter((line) => line.startsWith('{'));
    const index = lines.findIndex((line) => line.includes('dashboard at '));
    expect(index).toBeGreaterThanOrEqual(0);
    expect(index).toBeLessThan(3);
    const url = (JSON.parse(lines[index]!) as { url: string }).url;
    expect((await fetch(url)).status).toBe(200);
    // The demo's own worker shows up, running.
    await expect
      .poll(
        async () => {
          const body = (await (await fetch(new URL('api/servers', url))).json()) as {
            servers: { state: string }[];
          };
          return body.servers.map((server) => server.state);
        },
        { timeout: 15_000 },
      )
      .toEqual(['running']);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await redis.stop();
  }
}, 60_000);
