/**
 * The optional HTTP health endpoint: `GET /healthz` (live) and `GET /readyz` (ready) answer 200 or 503
 * with a JSON body that says why. It never keeps the process alive and binds to 127.0.0.1 unless told
 * otherwise.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HealthProbe, HealthReport } from './health-check';

export interface HealthEndpoint {
  /** The address it listens on, e.g. `http://127.0.0.1:9464`. */
  readonly url: string;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

export interface HealthEndpointOptions {
  port: number;
  host: string;
  /** Computes the answer for one request. */
  report: (probe: HealthProbe) => HealthReport;
}

const probes: Readonly<Record<string, HealthProbe>> = { '/healthz': 'live', '/readyz': 'ready' };

function answer(
  request: IncomingMessage,
  response: ServerResponse,
  report: (probe: HealthProbe) => HealthReport,
): void {
  const path = (request.url ?? '/').split('?')[0] ?? '/';
  const probe = probes[path];
  if (probe === undefined || (request.method !== 'GET' && request.method !== 'HEAD')) {
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: 'not found; use GET /healthz or GET /readyz' }));
    return;
  }
  let body: string;
  let status: number;
  try {
    const result = report(probe);
    status = result.ok ? 200 : 503;
    body = JSON.stringify({ status: result.ok ? 'ok' : 'unhealthy', ...result });
  } catch (error) {
    status = 503;
    body = JSON.stringify({ status: 'unhealthy', reasons: [`health check failed: ${String(error)}`] });
  }
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(request.method === 'HEAD' ? undefined : body);
}

export function startHealthEndpoint(options: HealthEndpointOptions): Promise<HealthEndpoint> {
  const server = createServer((request, response) => answer(request, response, options.report));
  server.keepAliveTimeout = 1000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      server.unref();
      const address = server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({
        url: `http://${host}:${address.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
