/** The q command line: global connection flags and every command. */
import { Command, Option } from 'commander';
import packageJson from '../package.json';
import type { CliContext } from './cli-context';
import { defaultPrefix } from './connection-options';
import { registerCronCommand } from './cron-command';
import { registerDashCommand } from './dash-command';
import { registerDoctorCommand } from './doctor-command';
import { registerGroupCommand } from './group-command';
import { registerMetricsCommand } from './metrics-command';
import { registerQueueCommand } from './queue-command';
import { registerServerCommand } from './server-command';
import { registerStatsCommand } from './stats-command';
import { registerTaskCommand } from './task-command';
import { registerWebCommand } from './web-command';

/** The version of @q/cli, from its package.json (bundled at build time). */
export const version: string = packageJson.version;

export interface GlobalFlags {
  uri?: string;
  db?: string;
  password?: string;
  username?: string;
  cluster?: boolean;
  tls?: boolean;
  insecure?: boolean;
  tls_server?: string;
  prefix?: string;
}

export function createProgram(context: CliContext): Command {
  const program = new Command('q')
    .description('Inspect and manage @q and Go Asynq queues, tasks, servers and schedulers.')
    .version(version, '-v, --version')
    .addOption(
      new Option(
        '-u, --uri <uri>',
        'Redis address: redis://host:port, rediss://… or host:port (also Q_REDIS_URL)',
      ),
    )
    .addOption(new Option('-n, --db <number>', 'Redis database number'))
    .addOption(
      new Option(
        '-p, --password <password>',
        'Redis password (prefer Q_REDIS_PASSWORD: flags show in the process list)',
      ),
    )
    .addOption(new Option('-U, --username <name>', 'Redis ACL username'))
    .addOption(
      new Option('--cluster', 'connect to a Redis Cluster (--uri may list several nodes, comma-separated)'),
    )
    .addOption(
      new Option('--tls', 'connect with TLS (or use a rediss:// URL; NODE_EXTRA_CA_CERTS adds a CA)'),
    )
    .addOption(
      new Option('--insecure', 'with TLS, accept any certificate (self-signed; never in production)'),
    )
    .addOption(new Option('--tls_server <name>', 'with TLS, the server name the certificate must carry'))
    .addOption(
      new Option('--prefix <prefix>', `key prefix; only "${defaultPrefix}" is shared with Go Asynq`).default(
        defaultPrefix,
      ),
    )
    .showSuggestionAfterError()
    .addHelpText(
      'after',
      `
Examples:
  $ q stats
  $ q queue inspect default
  $ q task ls --queue default --state retry
  $ q doctor
  $ q web --port 8080
  $ Q_REDIS_URL=redis://10.0.0.5:6379 q server ls --json

Exit status: 0 done, 1 the operation failed, 2 bad command line, 3 Redis unreachable, 4 doctor found problems.`,
    );
  program.hook('preAction', () => {
    const { tls_server: tlsServer, ...flags } = program.opts<GlobalFlags>();
    context.setConnectionFlags({ ...flags, ...(tlsServer ? { tlsServer } : {}) });
  });
  registerStatsCommand(program, context);
  registerQueueCommand(program, context);
  registerTaskCommand(program, context);
  registerGroupCommand(program, context);
  registerServerCommand(program, context);
  registerCronCommand(program, context);
  registerDoctorCommand(program, context);
  registerMetricsCommand(program, context);
  registerDashCommand(program, context);
  registerWebCommand(program, context);
  return program;
}
