/**
 * The web dashboard (@q/web) served next to the worker on loopback: queues, tasks, servers with their
 * lifecycle, schedulers, doctor. DASHBOARD_PORT picks the port (default 8080; 0 picks a free one); when
 * the port is taken, a free one is used instead.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { QueueAdmin } from '@q/core';
import { Inspector } from '@q/inspector';
import { createWebHandler, loopbackHosts, toNodeListener } from '@q/web';

export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

const defaultPort = 8080;

export async function startDashboard(options: {
  broker: QueueAdmin;
  source: string;
  port?: string;
}): Promise<Dashboard> {
  const handler = createWebHandler({
    inspector: new Inspector({ broker: options.broker }),
    source: options.source,
    allowedHosts: [...loopbackHosts],
  });
  const server = createServer(toNodeListener(handler));
  const port = options.port === undefined || options.port === '' ? defaultPort : Number(options.port);
  try {
    await listen(server, port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    await listen(server, 0);
  }
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}
