/**
 * `pnpm --filter @q/bench lease-cost`: what a server's leases cost Redis. Starts a throwaway redis-server,
 * runs one @q Server with every timing option at its default and `--tasks` (50) tasks running that never
 * finish, then records every command Redis executes for `--seconds` (20) with MONITOR, and attributes the
 * commands run inside Lua scripts to their script. Prints commands per second by script and the lease work
 * (extending leases and the recoverer's sweep) per running task; INFO commandstats gives the total beside it.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRedisBroker } from '@q/broker-redis';
import { Client } from '@q/client';
import { Server } from '@q/server';
import { Redis } from 'ioredis';
import { startRedisServer } from '../../test/redis-server';

const { values } = parseArgs({
  options: { tasks: { type: 'string', default: '50' }, seconds: { type: 'string', default: '20' } },
});
const taskCount = Number(values.tasks);
const seconds = Number(values.seconds);
if (!Number.isInteger(taskCount) || taskCount < 1 || !(seconds > 0)) {
  throw new Error('usage: lease-cost [--tasks N (a positive integer)] [--seconds S (positive)]');
}

/** Script name by SHA1, from the broker's Lua sources. */
const luaDirectory = fileURLToPath(new URL('../../packages/broker-redis/lua/', import.meta.url));
const scriptBySha = new Map<string, string>();
for (const file of readdirSync(luaDirectory).filter((name) => name.endsWith('.lua'))) {
  const source = readFileSync(luaDirectory + file, 'utf8');
  scriptBySha.set(createHash('sha1').update(source).digest('hex'), file.replace(/\.lua$/, ''));
}
/** The scripts that do lease work: extending leases, and the recoverer's sweep for ended ones. */
const leaseScripts = new Set(['extend-lease', 'list-lease-expired']);

const redis = await startRedisServer();
const broker = createRedisBroker({ url: redis.url, prefix: 'lease-cost' });
const server = new Server({ broker, queues: { lease: 1 }, concurrency: taskCount });
const admin = new Redis(redis.url);
const monitor = await admin.monitor();
try {
  let started = 0;
  await server.start(
    (_task, context) =>
      new Promise<void>((resolve) => {
        started += 1;
        context.signal.addEventListener('abort', () => resolve(), { once: true });
      }),
  );
  const client = new Client({ broker });
  for (let n = 0; n < taskCount; n += 1) await client.enqueue('lease-cost:hold', { n }, { queue: 'lease' });
  while (started < taskCount) await new Promise((resolve) => setTimeout(resolve, 20));
  // Let start-up work (the first sweeps, the store watch) pass before measuring.
  await new Promise((resolve) => setTimeout(resolve, 3000));

  const perSource = new Map<string, { calls: number; inner: Map<string, number> }>();
  const count = (source: string): { calls: number; inner: Map<string, number> } => {
    const entry = perSource.get(source) ?? { calls: 0, inner: new Map<string, number>() };
    perSource.set(source, entry);
    return entry;
  };
  const scriptName = (sha: string): string => `script ${scriptBySha.get(sha) ?? sha}`;
  // Redis 7 feeds a script's own commands to MONITOR right after the EVALSHA that runs them.
  let current: { calls: number; inner: Map<string, number> } | undefined;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const name = (args[0] ?? '').toLowerCase();
    if (source === 'lua') {
      if (current) current.inner.set(name, (current.inner.get(name) ?? 0) + 1);
      return;
    }
    if (name === 'evalsha' || name === 'evalsha_ro') current = count(scriptName(args[1] ?? ''));
    else if (name === 'eval' || name === 'eval_ro')
      // The first call of a script sends its text; every script begins with a `-- name:` line.
      current = count(`script ${/^-- ([\w-]+):/.exec(args[1] ?? '')?.[1] ?? 'unknown'}`);
    else current = count(name);
    current.calls += 1;
  });
  await admin.config('RESETSTAT');
  const from = Date.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const elapsed = (Date.now() - from) / 1000;
  const stats = await admin.info('commandstats');

  const rate = (n: number): string => (n / elapsed).toFixed(1);
  const rows = [...perSource].sort((a, b) => b[1].calls - a[1].calls);
  let leaseCalls = 0;
  let leaseInner = 0;
  let allCommands = 0;
  process.stdout.write(
    `One server, defaults, ${taskCount} running tasks, ${elapsed.toFixed(1)} s (per second):\n`,
  );
  for (const [source, { calls, inner }] of rows) {
    const innerTotal = [...inner.values()].reduce((sum, n) => sum + n, 0);
    allCommands += calls + innerTotal;
    if (leaseScripts.has(source.replace('script ', ''))) {
      leaseCalls += calls;
      leaseInner += innerTotal;
    }
    const detail = [...inner].map(([name, n]) => `${name} ${rate(n)}`).join(', ');
    process.stdout.write(`  ${source}: ${rate(calls)} calls${detail ? `, inside: ${detail}` : ''}\n`);
  }
  const commandstatsTotal = [...stats.matchAll(/^cmdstat_(\w+(?:\|\w+)?):calls=(\d+)/gm)]
    .filter(([, name]) => name !== 'config' && name !== 'info')
    .reduce((sum, match) => sum + Number(match[2]), 0);
  process.stdout.write(
    `Lease work (extend-lease + list-lease-expired): ${rate(leaseCalls)} script calls + ${rate(leaseInner)} ` +
      `commands inside = ${rate(leaseCalls + leaseInner)} commands/s, ` +
      `${((leaseCalls + leaseInner) / elapsed / taskCount).toFixed(2)} per running task\n` +
      `All commands: ${rate(allCommands)}/s by MONITOR, ${rate(commandstatsTotal)}/s by INFO commandstats\n`,
  );
} finally {
  monitor.disconnect();
  await server.shutdown({ timeout: 0 });
  await broker.close();
  admin.disconnect();
  await redis.stop();
}
