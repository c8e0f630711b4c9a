import { createServer } from 'node:http';
import { isIP } from 'node:net';
import { createWebHandler, loopbackHosts, toNodeListener, type WebAuth } from '@q/web';
import type { Command } from 'commander';
import { parsePort } from './argument-parsers';
import type { CliContext } from './cli-context';
import { CliError, exitCodes } from './exit-codes';
import { waitForStopSignal } from './stop-signal';

interface WebOptions {
  host: string;
  port: number;
  readOnly?: boolean;
  basePath: string;
}

export function registerWebCommand(program: Command, context: CliContext): void {
  program
    .command('web')
    .description(
      'serve the web dashboard (queues, tasks, servers, schedulers, doctor, live) until interrupted',
    )
    .option(
      '--host <host>',
      'the address to listen on; anything but loopback needs --read-only or Q_WEB_PASSWORD / Q_WEB_TOKEN',
      '127.0.0.1',
    )
    .option('--port <port>', 'the port to listen on (0 picks a free one)', parsePort, 8080)
    .option('--read-only', 'show everything, change nothing: no pause, run, archive, delete or cancel')
    .option('--base-path <path>', 'serve under this path, e.g. /q behind a proxy', '')
    .addHelpText(
      'after',
      `
Sign-in, read from the environment (never from flags, which show in the process list):
  Q_WEB_PASSWORD  ask for HTTP basic auth with this password (user Q_WEB_USER, default "admin")
  Q_WEB_TOKEN     or ask for this token: open the dashboard once with ?token=<token>`,
    )
    .action(async (options: WebOptions) => {
      const auth = authFromEnvironment(context.env);
      if (!isLoopback(options.host) && !options.readOnly && !auth) {
        throw new CliError(
          `--host ${options.host} makes the dashboard reachable from the network, where anyone could delete tasks. ` +
            'Add --read-only, or set Q_WEB_PASSWORD (basic auth) or Q_WEB_TOKEN.',
          exitCodes.usage,
        );
      }
      const inspector = await context.inspector({ reconnect: true });
      // Fail now, not at the first page, when Redis cannot be reached.
      await inspector.queues();
      const secrets = [...context.secrets];
      if (auth && 'password' in auth) secrets.push(auth.password);
      if (auth && 'token' in auth) secrets.push(auth.token);
      const handler = createWebHandler({
        inspector,
        basePath: options.basePath,
        readOnly: options.readOnly === true,
        ...(auth ? { auth } : {}),
        source: context.connection.displayUrl,
        secrets,
        // On loopback, answer only for loopback names: a page whose domain was re-pointed at 127.0.0.1 (DNS
        // rebinding) cannot read the dashboard.
        ...(isLoopback(options.host) ? { allowedHosts: [...loopbackHosts, options.host] } : {}),
      });
      const server = createServer(toNodeListener(handler));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => resolve());
      });
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      const host = options.host.includes(':') ? `[${options.host}]` : options.host;
      const notes = [
        options.readOnly ? 'read-only' : undefined,
        auth ? ('token' in auth ? 'token required' : `basic auth as ${auth.username}`) : undefined,
      ].filter(Boolean);
      context.output.stderr.write(
        `Serving the dashboard at http://${host}:${port}${options.basePath}/${notes.length > 0 ? ` (${notes.join(', ')})` : ''} (Ctrl-C to stop)\n`,
      );
      await waitForStopSignal();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    });
}

function authFromEnvironment(env: Record<string, string | undefined>): WebAuth | undefined {
  if (env.Q_WEB_TOKEN && env.Q_WEB_PASSWORD) {
    throw new CliError('Set Q_WEB_PASSWORD or Q_WEB_TOKEN, not both.', exitCodes.usage);
  }
  if (env.Q_WEB_TOKEN) return { token: env.Q_WEB_TOKEN };
  if (env.Q_WEB_PASSWORD) return { username: env.Q_WEB_USER || 'admin', password: env.Q_WEB_PASSWORD };
  return undefined;
}

/** `localhost`, 127.0.0.0/8 and ::1: reachable from this machine only. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}
