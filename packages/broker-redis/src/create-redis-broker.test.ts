import { ValidationError } from '@q/core';
import { Redis } from 'ioredis';
import { describe, expect, inject, it, vi } from 'vitest';
import { startRedisServer } from '../../../test/redis-server';
import { timingAllowanceMs } from '../../../test/timing-allowance';
import { redisUrl, taskMessage, uniquePrefix } from '../test/redis-test-context';
import { createRedisBroker } from './create-redis-broker';
import type { RedisBrokerOptions } from './redis-broker-options';

describe('createRedisBroker options', () => {
  const invalid: [string, unknown][] = [
    ['not an object', 'redis://x'],
    ['an unknown option', { url: 'redis://127.0.0.1', nope: 1 }],
    ['two connection options', { url: 'redis://127.0.0.1', cluster: { nodes: ['127.0.0.1:7000'] } }],
    ['a url of another scheme', { url: 'http://127.0.0.1' }],
    ['a url that is not one', { url: 'not a url' }],
    ['a url with a bad database', { url: 'redis://127.0.0.1/x' }],
    ['a redis that is not ioredis', { redis: {} }],
    ['a cluster without nodes', { cluster: { nodes: [] } }],
    ['a cluster node without a port', { cluster: { nodes: [{ host: 'a' }] } }],
    ['a cluster with a database', { cluster: { nodes: ['a:1'] }, db: 2 }],
    ['a sentinel without a name', { sentinel: { sentinels: [{ host: 'a', port: 1 }] } }],
    ['a negative db', { db: -1 }],
    ['an empty prefix', { prefix: '' }],
    ['a prefix with a brace', { prefix: 'a{b' }],
    ['a logger without methods', { logger: {} }],
    ['a connect timeout that is not a duration', { connectTimeout: 'soon' }],
    ['a non-boolean autoPipelining', { autoPipelining: 'yes' }],
  ];
  for (const [what, options] of invalid) {
    it(`rejects ${what} with a ValidationError`, () => {
      expect(() => createRedisBroker(options as RedisBrokerOptions)).toThrow(ValidationError);
    });
  }

  it('does not echo the password of a rejected url', () => {
    try {
      createRedisBroker({ url: 'http://user:s3cret@127.0.0.1' });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain('s3cret');
    }
  });

  it('refuses a passed-in connection with an ioredis keyPrefix', () => {
    const redis = new Redis(redisUrl(), { lazyConnect: true, keyPrefix: 'x:' });
    expect(() => createRedisBroker({ redis })).toThrow(/keyPrefix/);
    redis.disconnect();
  });
});

describe('connections', () => {
  it('leaves a connection passed in open on close, and closes the subscriber it opened', async () => {
    const redis = new Redis(redisUrl());
    const broker = createRedisBroker({ redis, prefix: uniquePrefix() });
    await broker.enqueue({ message: taskMessage() });
    expect(await broker.waitForTasks(['default'], 10)).toBe(false);
    await broker.close();
    expect(redis.status).toBe('ready');
    expect(await redis.ping()).toBe('PONG');
    await redis.quit();
  });

  it('closes a connection it created', async () => {
    const broker = createRedisBroker({ url: redisUrl(), prefix: uniquePrefix() });
    await broker.ping();
    await broker.close();
    await vi.waitFor(() => expect((broker.connection as Redis).status).toBe('end'));
  });

  it('survives SCRIPT FLUSH: scripts are sent again when Redis forgot them', async () => {
    const prefix = uniquePrefix();
    const broker = createRedisBroker({ url: redisUrl(), prefix });
    const admin = new Redis(inject('redisAdminUrl'));
    try {
      await broker.enqueue({ message: taskMessage() });
      await admin.script('FLUSH');
      await broker.enqueue({ message: taskMessage() });
      await admin.script('FLUSH');
      const results = await broker.enqueueMany([{ message: taskMessage() }, { message: taskMessage() }]);
      expect(results.every((result) => result.ok)).toBe(true);
      await admin.script('FLUSH');
      const { tasks } = await broker.dequeue(['default'], { count: 10, leaseDuration: 30_000 });
      expect(tasks).toHaveLength(4);
    } finally {
      await broker.close();
      await admin.quit();
    }
  });

  it('writes each call on its own by default, and shares writes between concurrent calls with autoPipelining', async () => {
    for (const [autoPipelining, writes] of [
      [undefined, 20],
      [true, 1],
    ] as const) {
      const broker = createRedisBroker({ url: redisUrl(), prefix: uniquePrefix(), autoPipelining });
      try {
        await broker.ping();
        const write = vi.spyOn((broker.connection as Redis).stream, 'write');
        await Promise.all(Array.from({ length: 20 }, () => broker.pauseQueue('default')));
        expect(write.mock.calls.length).toBe(writes);
        write.mockRestore();
      } finally {
        await broker.close();
      }
    }
  });

  it('connects with an ACL user from the url, or from username and password', async () => {
    const server = await startRedisServer();
    const admin = new Redis(server.url);
    await admin.acl('SETUSER', 'worker', 'on', '>worker-pass', '~*', '&*', '+@all');
    await admin.quit();
    try {
      const fromUrl = createRedisBroker({ url: `redis://worker:worker-pass@127.0.0.1:${server.port}/3` });
      await fromUrl.enqueue({ message: taskMessage() });
      expect(await fromUrl.listQueues()).toEqual(['default']);
      await fromUrl.close();
      const fromOptions = createRedisBroker({
        url: `redis://127.0.0.1:${server.port}`,
        username: 'worker',
        password: 'worker-pass',
        db: 3,
      });
      expect(await fromOptions.listQueues()).toEqual(['default']);
      await fromOptions.close();
    } finally {
      await server.stop();
    }
  });

  it('closes within a second while Redis is gone, subscriber included', async () => {
    const server = await startRedisServer();
    const broker = createRedisBroker({ url: server.url });
    await broker.enqueue({ message: taskMessage() });
    const unsubscribe = await broker.subscribeCancel(() => undefined);
    await server.stop();
    const started = Date.now();
    await broker.close();
    expect(Date.now() - started).toBeLessThan(1000 + timingAllowanceMs);
    await unsubscribe();
  });
});
