/**
 * For the demo only: when REDIS_URL is not set, start a private redis-server whose data lives in the
 * repository's git-ignored `.data/redis` folder, and stop it when the demo exits.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LocalRedis {
  url: string;
  /** Stops the redis-server this module started (a no-op for an external REDIS_URL). */
  stop(): Promise<void>;
}

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const defaultPort = 6390;

function ping(port: number): Promise<boolean> {
  return new Promise((resolvePing) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.setTimeout(300);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolvePing(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolvePing(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolvePing(false);
    });
  });
}

export async function useLocalRedis(environment = process.env): Promise<LocalRedis> {
  if (environment.REDIS_URL) return { url: environment.REDIS_URL, stop: () => Promise.resolve() };

  const port = Number(environment.Q_DEMO_REDIS_PORT ?? defaultPort);
  const url = `redis://127.0.0.1:${port}`;
  if (await ping(port)) {
    // A demo redis-server from an earlier run is still up: share it, leave it running.
    return { url, stop: () => Promise.resolve() };
  }
  const binary = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (!binary) {
    throw new Error(
      'REDIS_URL is not set and no redis-server binary was found to start a local one.\n' +
        'Install Redis (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis),\n' +
        'or point the demo at your own Redis: REDIS_URL=redis://host:6379 npm start',
    );
  }
  const dataDirectory = join(repositoryRoot, '.data', 'redis');
  mkdirSync(dataDirectory, { recursive: true });
  const child: ChildProcess = spawn(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dataDirectory,
      '--appendonly',
      'yes',
      '--save',
      '',
    ],
    // Its own process group: Ctrl-C or Ctrl-Z in the terminal reach the demo, which shuts down gracefully
    // and still needs Redis to put its unfinished tasks back, but not this redis-server.
    { stdio: 'ignore', detached: true },
  );
  const deadline = Date.now() + 10_000;
  while (!(await ping(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `The local redis-server on port ${port} did not start; is the port taken? Set Q_DEMO_REDIS_PORT.`,
      );
    }
    await new Promise((wait) => setTimeout(wait, 50));
  }
  return {
    url,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}
