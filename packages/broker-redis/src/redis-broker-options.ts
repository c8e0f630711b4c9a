import type { Duration, Logger } from '@q/core';
import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import type { ConnectionOptions as TlsOptions } from 'node:tls';

/** A Redis node address. */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

/** How to reach a Redis Cluster. */
export interface RedisClusterConnectionOptions {
  /**
   * Some of the cluster's nodes, from which the others are discovered: `{ host, port }` objects or
   * `'host:port'` strings.
   */
  nodes: readonly (RedisNodeAddress | string)[];
  /**
   * ioredis cluster options, merged over the broker's (for example `redisOptions: { username, password,
   * tls }` for every node, `natMap`, `scaleReads`).
   * @default {}
   */
  options?: ClusterOptions;
}

/** How to reach a Redis whose master is found through Sentinel. */
export interface RedisSentinelConnectionOptions {
  /** Some of the sentinels. */
  sentinels: readonly RedisNodeAddress[];
  /** The master group name the sentinels monitor (`sentinel monitor <name> …`). */
  name: string;
  /**
   * The ACL user for the sentinels (the broker's `username` is for the master).
   * @default undefined (no ACL user)
   */
  sentinelUsername?: string;
  /**
   * The password for the sentinels (the broker's `password` is for the master).
   * @default undefined (no password)
   */
  sentinelPassword?: string;
  /**
   * Talk TLS to the sentinels: `true` or Node TLS options.
   * @default false
   */
  sentinelTls?: boolean | TlsOptions;
}

/**
 * Options of `createRedisBroker`. Give at most one of `url`, `redis`, `cluster` and `sentinel`; with none,
 * the broker connects to `redis://127.0.0.1:6379`.
 */
export interface RedisBrokerOptions {
  /**
   * A Redis URL: `redis://[[username][:password]@]host[:port][/db]`, or `rediss://…` for TLS.
   * @default 'redis://127.0.0.1:6379' (when no connection option is given)
   */
  url?: string;
  /**
   * An ioredis `Redis` or `Cluster` connection that you manage. The broker defines its scripts on it and
   * never closes it. Its `enableAutoPipelining` is yours to set; `keyPrefix` must be empty (use `prefix`).
   * @default undefined
   */
  redis?: Redis | Cluster;
  /**
   * Connect to a Redis Cluster. Every queue lives in one slot (its keys carry the `{queue}` hash tag).
   * @default undefined
   */
  cluster?: RedisClusterConnectionOptions;
  /**
   * Connect to the master that Redis Sentinel designates, following failovers.
   * @default undefined
   */
  sentinel?: RedisSentinelConnectionOptions;
  /**
   * ACL user name; overrides one in `url`.
   * @default undefined (the URL's, else the `default` user)
   */
  username?: string;
  /**
   * Password; overrides one in `url`. Never logged nor put in error messages.
   * @default undefined (the URL's, else none)
   */
  password?: string;
  /**
   * Database number (standalone and Sentinel only; a cluster has database 0 only). Go's Asynq must use the
   * same one to share queues.
   * @default 0 (or the URL's)
   */
  db?: number;
  /**
   * Use TLS: `true`, or Node TLS options (CA, client certificate, servername). A `rediss://` URL implies it.
   * @default false
   */
  tls?: boolean | TlsOptions;
  /**
   * The first segment of every key. Only the default is compatible with Go's Asynq, which cannot change
   * it; another prefix keeps several @q deployments apart in one Redis.
   * @default 'asynq'
   */
  prefix?: string;
  /**
   * Where the broker reports what it cannot throw (connection errors, malformed records it archived).
   * @default silent
   */
  logger?: Logger;
  /**
   * Send commands issued in the same event-loop tick in one write (ioredis `enableAutoPipelining`).
   * Applies to connections the broker creates. Off by default: the broker already gathers the hot calls
   * itself (enqueues started together share one script call per queue, and so do the acknowledgements of
   * tasks that finish together), and ioredis builds a pipeline object per tick that costs more than the
   * few commands left would save (see bench/README.md).
   * @default false
   */
  autoPipelining?: boolean;
  /**
   * How long to wait for a connection to be established.
   * @default '10s'
   */
  connectTimeout?: Duration;
  /**
   * Extra ioredis options for connections the broker creates, applied last (for example
   * `maxRetriesPerRequest`, `commandTimeout`, `retryStrategy`).
   * @default {}
   */
  redisOptions?: RedisOptions;
}

export const redisBrokerOptionKeys = [
  'url',
  'redis',
  'cluster',
  'sentinel',
  'username',
  'password',
  'db',
  'tls',
  'prefix',
  'logger',
  'autoPipelining',
  'connectTimeout',
  'redisOptions',
] as const satisfies readonly (keyof RedisBrokerOptions)[];
