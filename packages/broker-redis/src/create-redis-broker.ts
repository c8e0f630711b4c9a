import { silentLogger } from '@q/core';
import { QueueRegistry } from './queue-registry';
import { RedisBroker } from './redis-broker';
import type { RedisBrokerOptions } from './redis-broker-options';
import { openRedisConnection, validateRedisBrokerOptions } from './redis-connection';
import { RedisKeys } from './redis-keys';
import { defineScripts } from './redis-scripts';
import { RedisSubscriber } from './redis-subscriber';

/**
 * Creates a broker that stores queues in Redis exactly as Go's Asynq does, so that Go clients, servers,
 * the `asynq` CLI and asynqmon share them with @q. Throws `ValidationError` for invalid options.
 *
 * ```ts
 * const broker = createRedisBroker({ url: 'redis://127.0.0.1:6379' });
 * ```
 */
export function createRedisBroker(options: RedisBrokerOptions = {}): RedisBroker {
  validateRedisBrokerOptions(options);
  const logger = options.logger ?? silentLogger;
  const { connection, owned } = openRedisConnection(options, logger);
  defineScripts(connection);
  const keys = new RedisKeys(options.prefix ?? 'asynq');
  const subscriber = new RedisSubscriber(connection, logger);
  const queueRegistry = new QueueRegistry();
  return new RedisBroker(
    { connection, keys, logger, subscriber, queueRegistry, now: () => Date.now() },
    owned,
  );
}
