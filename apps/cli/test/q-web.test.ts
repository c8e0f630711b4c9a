/**
 * `q web` serves the dashboard: on loopback by default, elsewhere only read-only or with credentials from
 * the environment, and the Redis password appears in nothing it serves.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRedisBroker } from '@q/broker-redis';
import type { Broker } from '@q/core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from '../../../test/redis-server';
import { buildCli, cliBinary, runQ } from './built-cli';
import { populateEveryState } from './populate-redis';

const prefix = `web-${randomUUID().slice(0, 8)}`;
let url: string;
let broker: Broker;
const children: ChildProcess[] = [];

beforeAll(async () => {
  url = inject('redisUrl');
  broker = createRedisBroker({ url, prefix });
  await Promise.all([buildCli(), populateEveryState(broker, 'orders')]);
});

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await broker.close();
});

/** Starts `q web` and returns the address it printed. */
async function startWeb(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; address: string; stderr: () => string }> {
  const child = spawn(process.execPath, [cliBinary, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await expect.poll(() => stderr, { timeout: 15_000 }).toMatch(/Serving the dashboard at http:\/\/\S+/);
  const address = /Serving the dashboard at (http:\/\/\S+)/.exec(stderr)![1]!;
  return { child, address, stderr: () => stderr };
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  child.kill('SIGTERM');
  return exited;
}

describe('q web', () => {
  it('serves the dashboard on 127.0.0.1 until SIGTERM, actions included', async () => {
    const { child, address } = await startWeb(['--uri', url, '--prefix', prefix, 'web', '--port', '0']);
    try {
      expect(address).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await fetch(address);
      expect(page.status).toBe(200);
      const html = await page.text();
      const script = /<script defer src="([^"]+)"/.exec(html)![1]!;
      // The browser app is embedded in the built command: served from memory, not from the network.
      const js = await fetch(new URL(script, address));
      expect(js.status).toBe(200);
      expect((await js.text()).length).toBeGreaterThan(50_000);
      const queues = (await (await fetch(new URL('api/queues', address))).json()) as {
        queues: { queue: string; retry: number }[];
      };
      expect(queues.queues).toMatchObject([{ queue: 'orders', retry: 1 }]);
      const token = /"csrfToken":"([^"]+)"/.exec(html)![1]!;
      const pause = await fetch(new URL('api/queues/orders/pause', address), {
        method: 'POST',
        headers: { 'x-q-csrf': token },
      });
      expect(pause.status).toBe(200);
      expect((await broker.queueStats('orders', Date.now())).paused).toBe(true);
      await broker.unpauseQueue('orders');
    } finally {
      expect(await stop(child)).toBe(0);
    }
  });

  it('refuses to listen beyond loopback unless read-only or given credentials', async () => {
    const refused = await runQ(['--uri', url, '--prefix', prefix, 'web', '--host', '0.0.0.0', '--port', '0']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('Add --read-only, or set Q_WEB_PASSWORD (basic auth) or Q_WEB_TOKEN.');

    const readOnly = await startWeb([
      '--uri',
      url,
      '--prefix',
      prefix,
      'web',
      '--host',
      '0.0.0.0',
      '--port',
      '0',
      '--read-only',
    ]);
    try {
      expect(readOnly.stderr()).toContain('(read-only)');
      const port = new URL(readOnly.address).port;
      const html = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      const token = /"csrfToken":"([^"]+)"/.exec(html)![1]!;
      const pause = await fetch(`http://127.0.0.1:${port}/api/queues/orders/pause`, {
        method: 'POST',
        headers: { 'x-q-csrf': token },
      });
      expect(pause.status).toBe(403);
    } finally {
      await stop(readOnly.child);
    }

    const guarded = await startWeb(
      ['--uri', url, '--prefix', prefix, 'web', '--host', '0.0.0.0', '--port', '0'],
      {
        Q_WEB_PASSWORD: 'open-sesame',
      },
    );
    try {
      const port = new URL(guarded.address).port;
      expect((await fetch(`http://127.0.0.1:${port}/api/queues`)).status).toBe(401);
      const signedIn = await fetch(`http://127.0.0.1:${port}/api/queues`, {
        headers: { authorization: `Basic ${Buffer.from('admin:open-sesame').toString('base64')}` },
      });
      expect(signedIn.status).toBe(200);
      expect(guarded.stderr()).not.toContain('open-sesame');
    } finally {
      await stop(guarded.child);
    }
  });

  it('answers 503 with a sentence while Redis is away, and the page still loads', async () => {
    const redis = await startRedisServer();
    const { child, address } = await startWeb(['--uri', redis.url, 'web', '--port', '0']);
    try {
      expect((await fetch(new URL('api/queues', address))).status).toBe(200);
      await redis.stop();
      const away = await fetch(new URL('api/queues', address));
      expect(away.status).toBe(503);
      expect(((await away.json()) as { error: string }).error).toContain('Redis could not be reached');
      expect((await fetch(address)).status).toBe(200);
    } finally {
      expect(await stop(child)).toBe(0);
      await redis.stop();
    }
  });

  describe('with a Redis that needs a password', () => {
    let secured: RedisServerHandle;
    const password = `pw-${randomUUID()}`;

    beforeAll(async () => {
      // Started open (the start-up check pings without a password), then closed with a password.
      secured = await startRedisServer();
      const set = spawnSync(
        'redis-cli',
        ['-p', String(secured.port), 'CONFIG', 'SET', 'requirepass', password],
        {
          encoding: 'utf8',
        },
      );
      expect(set.stdout.trim()).toBe('OK');
    });

    afterAll(async () => {
      await secured?.stop();
    });

    it('shows the address with the password masked, and the password nowhere', async () => {
      const securedUrl = `redis://:${password}@127.0.0.1:${secured.port}`;
      const securedBroker = createRedisBroker({ url: securedUrl, prefix });
      await populateEveryState(securedBroker, 'orders');
      await securedBroker.close();
      const { child, address } = await startWeb([
        '--uri',
        securedUrl,
        '--prefix',
        prefix,
        'web',
        '--port',
        '0',
      ]);
      try {
        const bodies = await Promise.all(
          [
            '',
            'api/queues',
            'api/redis',
            'api/servers',
            'api/doctor',
            'api/queues/orders/tasks?state=retry',
            'api/nothing',
          ].map(async (path) => (await fetch(new URL(path, address))).text()),
        );
        for (const body of bodies) expect(body).not.toContain(password);
        expect(bodies[0]).toContain(`redis://:***@127.0.0.1:${secured.port}`);
        expect(bodies[2]).toContain('"version":"redis ');
      } finally {
        await stop(child);
      }
    });
  });
});
