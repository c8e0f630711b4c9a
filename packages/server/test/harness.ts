/**
 * Integration-test plumbing: a Redis broker on the test redis-server with a key prefix of its own (so
 * tests never see each other's queues, servers or cancel requests), a client, and servers with short
 * intervals, all closed when the test ends.
 */
import { randomUUID } from 'node:crypto';
import { createRedisBroker, type RedisBroker } from '@q/broker-redis';
import { Client } from '@q/client';
import { inject, onTestFinished } from 'vitest';
import { Server } from '../src/server';
import type { ServerOptions } from '../src/server-options';
import { delay } from './wait-for';

/** Short intervals so that the background loops act within the test's patience. */
export const fastServerOptions = {
  concurrency: 4,
  taskCheckInterval: 200,
  heartbeatInterval: 1000,
  delayedTaskCheckInterval: 100,
  janitorInterval: 200,
  recovererInterval: 500,
  leaseDuration: 5000,
  shutdownTimeout: 2000,
  retryDelay: () => 0,
} satisfies Partial<ServerOptions>;

export interface Harness {
  prefix: string;
  url: string;
  broker: RedisBroker;
  client: Client;
  /** A server on the harness broker (or `options.broker`) with fast intervals; shut down after the test. */
  server(options?: Partial<ServerOptions>): Server;
  /** Another broker on the same prefix, as another process would have. */
  otherBroker(): RedisBroker;
}

export function createHarness(options: { url?: string; prefix?: string } = {}): Harness {
  const url = options.url ?? inject('redisUrl');
  const prefix = options.prefix ?? `qs-${randomUUID().slice(0, 8)}`;
  const brokers: RedisBroker[] = [];
  const servers: Server[] = [];
  const newBroker = (): RedisBroker => {
    const broker = createRedisBroker({ url, prefix });
    brokers.push(broker);
    return broker;
  };
  const broker = newBroker();
  onTestFinished(async () => {
    await Promise.all(servers.map((server) => server.shutdown({ force: true })));
    // A broker whose Redis the test stopped may wait for it to come back; do not let that hold the suite.
    await Promise.all(
      brokers.map((each) =>
        Promise.race([each.close(), delay(1000)]).finally(() => each.connection.disconnect()),
      ),
    );
  });
  return {
    prefix,
    url,
    broker,
    client: new Client({ broker }),
    server: (serverOptions = {}) => {
      const server = new Server({ broker, ...fastServerOptions, ...serverOptions });
      servers.push(server);
      return server;
    },
    otherBroker: newBroker,
  };
}

/** A queue name no other test uses. */
export const queueName = (label: string): string => `${label}-${randomUUID().slice(0, 6)}`;
