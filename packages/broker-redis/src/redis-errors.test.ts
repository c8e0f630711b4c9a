import {
  BrokerError,
  BrokerOutOfMemoryError,
  BrokerUnavailableError,
  DuplicateTaskError,
  QError,
  ShutdownError,
} from '@q/core';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { freePort, startRedisServer } from '../../../test/redis-server';
import { redisUrl, taskMessage, uniquePrefix } from '../test/redis-test-context';
import { createRedisBroker } from './create-redis-broker';
import { toBrokerError } from './redis-errors';

describe('toBrokerError', () => {
  it('passes @q errors through and classifies the rest', () => {
    const duplicate = new DuplicateTaskError('q', 't');
    expect(toBrokerError(duplicate, 'enqueue')).toBe(duplicate);
    expect(
      toBrokerError(new Error("OOM command not allowed when used memory > 'maxmemory'."), 'x'),
    ).toBeInstanceOf(BrokerOutOfMemoryError);
    for (const message of [
      'Connection is closed.',
      'connect ECONNREFUSED 127.0.0.1:1',
      'read ECONNRESET',
      "Stream isn't writeable and enableOfflineQueue options is false",
      'Reached the max retries per request limit (which is 0). Refer to "maxRetriesPerRequest" option for details.',
      'CLUSTERDOWN The cluster is down',
      'LOADING Redis is loading the dataset in memory',
    ]) {
      expect(toBrokerError(new Error(message), 'x'), message).toBeInstanceOf(BrokerUnavailableError);
    }
    const other = toBrokerError(
      new Error('WRONGTYPE Operation against a key holding the wrong kind of value'),
      'dequeue',
    );
    expect(other).toBeInstanceOf(BrokerError);
    expect(other.message).toMatch(/dequeue: WRONGTYPE/);
  });

  it('keeps the cause without the command arguments ioredis attaches', () => {
    const error = Object.assign(new Error('WRONGPASS invalid username-password pair'), {
      command: { name: 'auth', args: ['alice', 'hunter2'] },
    });
    const mapped = toBrokerError(error, 'ping');
    expect(JSON.stringify(mapped.cause)).not.toContain('hunter2');
    expect((mapped.cause as Record<string, unknown>).command).toBeUndefined();
    expect((mapped.cause as Error).message).toBe(error.message);
  });
});

describe('errors from a real Redis', () => {
  it('maps a Redis that refuses writes for lack of memory to BrokerOutOfMemoryError', async () => {
    const server = await startRedisServer({
      args: ['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction'],
    });
    const filler = new Redis(server.url);
    const broker = createRedisBroker({ url: server.url, prefix: uniquePrefix() });
    try {
      await filler.eval("redis.call('SET', 'filler', string.rep('x', 3000000))", 0);
      const error = await broker.enqueue({ message: taskMessage() }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BrokerOutOfMemoryError);
      expect((error as Error).message).toMatch(/out of memory/);
      await expect(broker.pauseQueue('default')).rejects.toBeInstanceOf(BrokerOutOfMemoryError);
    } finally {
      await broker.close();
      await filler.quit();
      await server.stop();
    }
  });

  it('maps a refused connection to BrokerUnavailableError', async () => {
    const port = await freePort();
    const broker = createRedisBroker({
      url: `redis://127.0.0.1:${port}`,
      redisOptions: { maxRetriesPerRequest: 0, retryStrategy: () => null },
    });
    try {
      const error = await broker.ping().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BrokerUnavailableError);
      expect((error as Error).message).toMatch(/could not be reached/);
      await expect(broker.enqueue({ message: taskMessage() })).rejects.toBeInstanceOf(BrokerUnavailableError);
    } finally {
      await broker.close();
    }
  });

  it('refuses calls after close with ShutdownError', async () => {
    const broker = createRedisBroker({ url: redisUrl(), prefix: uniquePrefix() });
    await broker.ping();
    await broker.close();
    await broker.close();
    const error = await broker
      .dequeue(['default'], { count: 1, leaseDuration: 1000 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ShutdownError);
    expect((error as Error).message).toMatch(/closed/);
  });

  it('never puts the password into errors', async () => {
    const server = await startRedisServer();
    const admin = new Redis(server.url);
    await admin.config('SET', 'requirepass', 'correct-horse');
    await admin.quit();
    const messages: string[] = [];
    const log = (fields: unknown, message?: string): void => {
      messages.push(JSON.stringify(fields) + String(message));
    };
    const broker = createRedisBroker({
      url: `redis://:battery-staple@127.0.0.1:${server.port}`,
      logger: { debug: log, info: log, warn: log, error: log },
      redisOptions: { maxRetriesPerRequest: 0, retryStrategy: () => null },
    });
    try {
      const error = await broker.ping().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(QError);
      const everything = JSON.stringify({
        message: (error as Error).message,
        stack: (error as Error).stack,
        cause: (error as Error).cause,
        causeMessage: ((error as Error).cause as Error | undefined)?.message,
        messages,
      });
      expect(everything).not.toContain('battery-staple');
    } finally {
      await broker.close();
      await server.stop();
    }
  });
});
