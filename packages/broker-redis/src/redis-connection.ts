/**
 * Validates `RedisBrokerOptions` and opens the connection they describe (standalone, TLS, ACL user,
 * Sentinel or Cluster), or adopts the one passed in. Nothing here puts a password into a message.
 */
import { toMilliseconds, ValidationError, type Logger } from '@q/core';
import { assertKnownKeys } from '@q/core/internal';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { inspect } from 'node:util';
import { connectionErrorLogger } from './connection-error-logger';
import { redisBrokerOptionKeys, type RedisBrokerOptions } from './redis-broker-options';
import type { RedisConnection } from './redis-scripts';

export interface BrokerConnection {
  connection: RedisConnection;
  /** True when the broker created the connection and must close it. */
  owned: boolean;
}

const defaultUrl = 'redis://127.0.0.1:6379';
const defaultConnectTimeout = 10_000;

function invalid(path: string, message: string): ValidationError {
  return new ValidationError(message, [{ path, message }]);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function assertOptionalString(value: unknown, path: string): void {
  if (value !== undefined && typeof value !== 'string') {
    throw invalid(path, `${path} must be a string.`);
  }
}

function assertAddress(value: unknown, path: string): void {
  if (typeof value === 'string' && value.trim() !== '') return;
  if (
    isObject(value) &&
    typeof value.host === 'string' &&
    value.host !== '' &&
    Number.isInteger(value.port) &&
    (value.port as number) > 0 &&
    (value.port as number) < 65536
  ) {
    return;
  }
  throw invalid(path, `${path} must be { host, port } with a port from 1 to 65535, or a 'host:port' string.`);
}

/** Throws `ValidationError` naming the first option that is wrong. */
export function validateRedisBrokerOptions(options: unknown): asserts options is RedisBrokerOptions {
  if (!isObject(options)) {
    throw invalid(
      'options',
      'createRedisBroker takes an options object, e.g. { url: "redis://127.0.0.1:6379" }.',
    );
  }
  assertKnownKeys(options, redisBrokerOptionKeys, 'option');
  const given = (['url', 'redis', 'cluster', 'sentinel'] as const).filter(
    (key) => options[key] !== undefined,
  );
  if (given.length > 1) {
    throw invalid(
      given[1]!,
      `Give only one of url, redis, cluster and sentinel; got ${given.join(' and ')}.`,
    );
  }
  if (options.url !== undefined) {
    if (typeof options.url !== 'string')
      throw invalid('url', 'url must be a string such as redis://host:6379.');
    parseRedisUrl(options.url);
  }
  if (options.redis !== undefined) {
    const redis = options.redis as unknown;
    if (
      !isObject(redis) ||
      typeof redis.defineCommand !== 'function' ||
      typeof redis.duplicate !== 'function'
    ) {
      throw invalid('redis', 'redis must be an ioredis Redis or Cluster instance.');
    }
    const keyPrefix = (redis.options as { keyPrefix?: unknown } | undefined)?.keyPrefix;
    if (keyPrefix) {
      throw invalid(
        'redis',
        'The ioredis connection has a keyPrefix, which the Lua scripts cannot honour; remove it and use the broker\'s "prefix" option.',
      );
    }
  }
  if (options.cluster !== undefined) {
    const cluster = options.cluster as unknown;
    if (!isObject(cluster) || !Array.isArray(cluster.nodes) || cluster.nodes.length === 0) {
      throw invalid('cluster.nodes', 'cluster.nodes must list at least one node, e.g. [{ host, port }].');
    }
    cluster.nodes.forEach((node, index) => assertAddress(node, `cluster.nodes[${index}]`));
    if (options.db !== undefined && options.db !== 0) {
      throw invalid('db', 'A Redis Cluster has database 0 only; remove db.');
    }
  }
  if (options.sentinel !== undefined) {
    const sentinel = options.sentinel as unknown;
    if (!isObject(sentinel) || !Array.isArray(sentinel.sentinels) || sentinel.sentinels.length === 0) {
      throw invalid('sentinel.sentinels', 'sentinel.sentinels must list at least one { host, port }.');
    }
    sentinel.sentinels.forEach((node, index) => assertAddress(node, `sentinel.sentinels[${index}]`));
    if (typeof sentinel.name !== 'string' || sentinel.name === '') {
      throw invalid('sentinel.name', 'sentinel.name must be the master group name the sentinels monitor.');
    }
    assertOptionalString(sentinel.sentinelUsername, 'sentinel.sentinelUsername');
    assertOptionalString(sentinel.sentinelPassword, 'sentinel.sentinelPassword');
  }
  assertOptionalString(options.username, 'username');
  assertOptionalString(options.password, 'password');
  if (options.db !== undefined && (!Number.isInteger(options.db) || (options.db as number) < 0)) {
    throw invalid('db', `db must be a whole number from 0, got ${JSON.stringify(options.db)}.`);
  }
  if (options.tls !== undefined && typeof options.tls !== 'boolean' && !isObject(options.tls)) {
    throw invalid('tls', 'tls must be true, false or Node TLS options.');
  }
  if (options.prefix !== undefined) {
    if (typeof options.prefix !== 'string' || options.prefix === '' || /[{}\s]/.test(options.prefix)) {
      throw invalid('prefix', 'prefix must be a non-empty string without braces or spaces, e.g. "asynq".');
    }
  }
  if (options.logger !== undefined) {
    const logger = options.logger as unknown;
    const methods = ['debug', 'info', 'warn', 'error'];
    if (!isObject(logger) || methods.some((method) => typeof logger[method] !== 'function')) {
      throw invalid('logger', 'logger must have debug, info, warn and error methods (pino works).');
    }
  }
  if (options.autoPipelining !== undefined && typeof options.autoPipelining !== 'boolean') {
    throw invalid('autoPipelining', 'autoPipelining must be true or false.');
  }
  if (options.connectTimeout !== undefined) {
    toMilliseconds(options.connectTimeout as never, 'connectTimeout');
  }
  if (options.redisOptions !== undefined && !isObject(options.redisOptions)) {
    throw invalid('redisOptions', 'redisOptions must be an object of ioredis options.');
  }
}

interface ParsedUrl {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls: boolean;
}

/** Parses a redis:// or rediss:// URL; errors show the URL without its password. */
export function parseRedisUrl(url: string): ParsedUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid('url', 'url is not a valid URL; write it as redis://[user:password@]host[:port][/db].');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw invalid(
      'url',
      `url must start with redis:// or rediss:// (TLS), got ${parsed.protocol}//…; write it as redis://[user:password@]host[:port][/db].`,
    );
  }
  const result: ParsedUrl = {
    host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    tls: parsed.protocol === 'rediss:',
  };
  if (parsed.username) result.username = decodeURIComponent(parsed.username);
  if (parsed.password) result.password = decodeURIComponent(parsed.password);
  const path = parsed.pathname.replace(/^\//, '');
  if (path !== '') {
    const db = Number(path);
    if (!Number.isInteger(db) || db < 0) {
      throw invalid('url', `The database in the url path must be a whole number, got "${path}".`);
    }
    result.db = db;
  }
  return result;
}

function tlsOptions(tls: boolean | TlsOptions | undefined, fromUrl: boolean): TlsOptions | undefined {
  if (tls === false) return undefined;
  if (tls === true || (tls === undefined && fromUrl)) return {};
  return tls;
}

/** Opens the connection `options` describe, or adopts `options.redis`. Call after validating. */
export function openRedisConnection(options: RedisBrokerOptions, logger: Logger): BrokerConnection {
  if (options.redis) return { connection: options.redis, owned: false };
  const connectTimeout =
    options.connectTimeout === undefined
      ? defaultConnectTimeout
      : toMilliseconds(options.connectTimeout, 'connectTimeout');
  const common: RedisOptions = {
    connectTimeout,
    enableAutoPipelining: options.autoPipelining ?? false,
  };
  if (options.username !== undefined) common.username = options.username;
  if (options.password !== undefined) common.password = options.password;

  let connection: RedisConnection;
  let name: string;
  if (options.cluster) {
    const nodeOptions: RedisOptions = { connectTimeout };
    if (options.username !== undefined) nodeOptions.username = options.username;
    if (options.password !== undefined) nodeOptions.password = options.password;
    const tls = tlsOptions(options.tls, false);
    if (tls) nodeOptions.tls = tls;
    const clusterOptions: ClusterOptions = {
      enableAutoPipelining: options.autoPipelining ?? false,
      ...options.cluster.options,
      redisOptions: { ...nodeOptions, ...options.redisOptions, ...options.cluster.options?.redisOptions },
    };
    connection = new Cluster([...options.cluster.nodes], clusterOptions);
    name = 'cluster';
  } else if (options.sentinel) {
    const sentinel = options.sentinel;
    const sentinelOptions: RedisOptions = {
      ...common,
      sentinels: sentinel.sentinels.map((node) => ({ host: node.host, port: node.port })),
      name: sentinel.name,
      db: options.db ?? 0,
    };
    if (sentinel.sentinelUsername !== undefined) sentinelOptions.sentinelUsername = sentinel.sentinelUsername;
    if (sentinel.sentinelPassword !== undefined) sentinelOptions.sentinelPassword = sentinel.sentinelPassword;
    const tls = tlsOptions(options.tls, false);
    if (tls) sentinelOptions.tls = tls;
    if (sentinel.sentinelTls) {
      sentinelOptions.enableTLSForSentinelMode = true;
      sentinelOptions.sentinelTLS = sentinel.sentinelTls === true ? {} : sentinel.sentinelTls;
    }
    connection = new Redis({ ...sentinelOptions, ...options.redisOptions });
    name = `sentinel ${sentinel.name}`;
  } else {
    const url = parseRedisUrl(options.url ?? defaultUrl);
    const standalone: RedisOptions = {
      ...common,
      host: url.host,
      port: url.port,
      db: options.db ?? url.db ?? 0,
    };
    if (options.username === undefined && url.username !== undefined) standalone.username = url.username;
    if (options.password === undefined && url.password !== undefined) standalone.password = url.password;
    const tls = tlsOptions(options.tls, url.tls);
    if (tls) standalone.tls = tls;
    connection = new Redis({ ...standalone, ...options.redisOptions });
    name = `${url.host}:${url.port}`;
  }
  connection.on('error', connectionErrorLogger(logger, name));
  // ioredis keeps the password in its options; `console.log(broker.connection)` must not print it.
  Object.defineProperty(connection, inspect.custom, { value: () => `Redis { ${name} }` });
  return { connection, owned: true };
}
