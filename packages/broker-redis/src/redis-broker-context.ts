/** What every part of the Redis broker shares: the connection, the key layout, the logger, pub/sub. */
import type { Logger } from '@q/core';
import type { QueueRegistry } from './queue-registry';
import type { RedisKeys } from './redis-keys';
import type { RedisConnection } from './redis-scripts';
import type { RedisSubscriber } from './redis-subscriber';

export interface RedisBrokerContext {
  readonly connection: RedisConnection;
  readonly keys: RedisKeys;
  readonly logger: Logger;
  readonly subscriber: RedisSubscriber;
  /** Which queue names were recently added to `P:queues`. */
  readonly queueRegistry: QueueRegistry;
  /** The current time in Unix milliseconds. */
  now(): number;
}
