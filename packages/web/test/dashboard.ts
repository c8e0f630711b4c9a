/** Test helpers: a prefix filled with tasks, and the dashboard served from it by Node's `http`. */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRedisBroker, type RedisBroker } from '@q/broker-redis';
import { Inspector } from '@q/inspector';
import { inject } from 'vitest';
import { createWebHandler, toNodeListener, type WebHandlerOptions } from '../src/index';
import { populateOurs, restoreGoFixtures } from './populate';

export interface Store {
  prefix: string;
  broker: RedisBroker;
  inspector: Inspector;
  close(): Promise<void>;
}

/** A fresh prefix holding @q's tasks in every state and Go Asynq's fixtures. */
export async function populatedStore(name: string, options: { go?: boolean } = {}): Promise<Store> {
  const prefix = `q-web-${name}-${randomUUID().slice(0, 8)}`;
  const broker = createRedisBroker({ url: inject('redisUrl'), prefix });
  await populateOurs(broker);
  if (options.go !== false) await restoreGoFixtures(inject('redisAdminUrl'), prefix);
  return { prefix, broker, inspector: new Inspector({ broker }), close: () => broker.close() };
}

export interface Served {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** The dashboard over `inspector` in a plain `node:http` server on a free loopback port. */
export async function serveDashboard(
  inspector: Inspector,
  options: Omit<WebHandlerOptions, 'inspector'> = {},
): Promise<Served> {
  const server = createServer(toNodeListener(createWebHandler({ inspector, ...options })));
  const url = await listen(server);
  return { url, server, close: () => closeServer(server) };
}
