// `npm run q -- <command>`: the q command in a clone, with no build step. Installs the workspace when
// needed (as `npm start` does), then runs apps/cli from its TypeScript sources. It talks to the Redis the
// demo uses unless told otherwise: --uri or Q_REDIS_URL first, then REDIS_URL, then the demo's private
// redis-server (port Q_DEMO_REDIS_PORT, 6390 by default). The published @q/cli package installs `q` itself.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
await import('./bootstrap.mjs');

const env = { ...process.env };
env.Q_REDIS_URL ??= env.REDIS_URL ?? `redis://127.0.0.1:${env.Q_DEMO_REDIS_PORT ?? 6390}`;
const child = spawn(
  process.execPath,
  [
    '--conditions=@q/source',
    '--import',
    'tsx',
    join('apps', 'cli', 'src', 'main.ts'),
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit', env },
);
// The terminal sends Ctrl-C to the whole process group, the child included: wait for it to exit.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => undefined);
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal === 'SIGINT' ? 130 : 1));
});
