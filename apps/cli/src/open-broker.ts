/**
 * Opens the Redis broker for one command. A one-shot command fails fast and clearly when Redis is away;
 * the long-running ones (dash, metrics) keep reconnecting and report each failed refresh instead.
 */
import { createRedisBroker, type RedisBrokerOptions } from '@q/broker-redis';
import { BrokerUnavailableError, type Broker } from '@q/core';
import type { Connection } from './connection-options';

export interface OpenBrokerOptions {
  /** Keep reconnecting after a lost connection instead of failing. @default false */
  reconnect?: boolean;
  /** How long to wait for Redis to answer at first. @default 5000 */
  connectTimeout?: number;
}

export async function openBroker(connection: Connection, options: OpenBrokerOptions = {}): Promise<Broker> {
  const connectTimeout = options.connectTimeout ?? 5000;
  const retryStrategy = options.reconnect
    ? (attempt: number): number => Math.min(attempt * 250, 2000)
    : (): null => null;
  // The broker logs connection errors (ECONNREFUSED, ENOTFOUND...) that a failed command only calls
  // "Connection is closed": keep the last one to say why.
  let lastConnectionError: string | undefined;
  const record = (fields: Record<string, unknown> | string): void => {
    if (typeof fields === 'object' && typeof fields.error === 'string') lastConnectionError = fields.error;
  };
  const logger = { debug: record, info: record, warn: record, error: record };
  const common: Pick<RedisBrokerOptions, 'prefix' | 'connectTimeout' | 'redisOptions' | 'logger'> = {
    logger,
    prefix: connection.prefix,
    connectTimeout,
    redisOptions: {
      retryStrategy,
      maxRetriesPerRequest: 1,
      commandTimeout: options.reconnect ? 10_000 : 30_000,
    },
  };
  const broker = connection.cluster
    ? createRedisBroker({
        ...common,
        cluster: {
          nodes: connection.clusterNodes
            .map((url) => new URL(url))
            .map((url) => ({ host: url.hostname, port: Number(url.port) })),
          options: {
            clusterRetryStrategy: options.reconnect ? retryStrategy : () => null,
            redisOptions: withTls(clusterNodeOptions(connection.clusterNodes[0]!), connection.tls),
          },
        },
      })
    : createRedisBroker({
        ...common,
        url: connection.url,
        ...(connection.tls ? { tls: connection.tls } : {}),
      });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      broker.ping(),
      new Promise((_resolve, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new BrokerUnavailableError(`no answer within ${connectTimeout / 1000}s (connect timed out)`),
            ),
          connectTimeout + 500,
        );
      }),
    ]);
  } catch (error) {
    await broker.close().catch(() => undefined);
    // The connection's own error (refused, unknown host, certificate) says more than the failed ping.
    throw lastConnectionError ? new BrokerUnavailableError(lastConnectionError) : error;
  } finally {
    clearTimeout(timer);
  }
  return broker;
}

/** Credentials and TLS of the first seed URL apply to every cluster node. */
function clusterNodeOptions(seed: string): NonNullable<RedisBrokerOptions['redisOptions']> {
  const url = new URL(seed);
  const options: NonNullable<RedisBrokerOptions['redisOptions']> = {};
  if (url.username) options.username = decodeURIComponent(url.username);
  if (url.password) options.password = decodeURIComponent(url.password);
  if (url.protocol === 'rediss:') options.tls = {};
  return options;
}

/** The node options with the command's TLS settings. */
function withTls(
  options: NonNullable<RedisBrokerOptions['redisOptions']>,
  tls: Connection['tls'],
): NonNullable<RedisBrokerOptions['redisOptions']> {
  return options.tls && tls ? { ...options, tls: { ...options.tls, ...tls } } : options;
}
