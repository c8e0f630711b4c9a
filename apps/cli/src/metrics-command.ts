import { createServer } from 'node:http';
import { createQueueMetricsCollector } from '@q/inspector';
import type { Command } from 'commander';
import { parsePort } from './argument-parsers';
import type { CliContext } from './cli-context';
import { waitForStopSignal } from './stop-signal';

export function registerMetricsCommand(program: Command, context: CliContext): void {
  program
    .command('metrics')
    .description("serve Prometheus metrics (Asynq's metric names plus server states) until interrupted")
    .option(
      '--host <host>',
      'the address to listen on; anything but loopback exposes queue names to the network',
      '127.0.0.1',
    )
    .option('--port <port>', 'the port to listen on (0 picks a free one)', parsePort, 9876)
    .option('--path <path>', 'the path to serve', '/metrics')
    .action(async (options: { host: string; port: number; path: string }) => {
      const inspector = await context.inspector({ reconnect: true });
      // Fail now, not at the first scrape, when Redis cannot be reached.
      await inspector.queues();
      const { registry } = createQueueMetricsCollector({ inspector });
      const server = createServer((request, response) => {
        const path = new URL(request.url ?? '/', 'http://localhost').pathname;
        if (request.method !== 'GET' || path !== options.path) {
          response
            .writeHead(404, { 'content-type': 'text/plain' })
            .end(`Not found; metrics are at ${options.path}\n`);
          return;
        }
        registry.metrics().then(
          (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
          (error: unknown) =>
            response
              .writeHead(500, { 'content-type': 'text/plain' })
              .end(`${error instanceof Error ? error.message : String(error)}\n`),
        );
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => resolve());
      });
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      const host = options.host.includes(':') ? `[${options.host}]` : options.host;
      context.output.stderr.write(
        `Serving metrics at http://${host}:${port}${options.path} (Ctrl-C to stop)\n`,
      );
      await waitForStopSignal();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    });
}
