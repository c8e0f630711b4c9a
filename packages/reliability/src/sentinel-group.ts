/**
 * A Sentinel setup on loopback: a primary, one replica, and three sentinels (`redis-server <conf>
 * --sentinel`, each with its own config file, which Sentinel rewrites) watching master group `name`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, redisServerBinary } from '../../../test/redis-server';
import { redisCli, RestartableRedis } from './redis-tools';

export interface SentinelGroup {
  name: string;
  primary: RestartableRedis;
  replica: RestartableRedis;
  sentinels: { host: string; port: number }[];
  /** The master's port as the sentinels report it now. */
  masterPort(): Promise<number>;
  stop(): Promise<void>;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Sentinel setup: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function startSentinelGroup(name = 'qmaster'): Promise<SentinelGroup> {
  const primary = await RestartableRedis.start();
  const replica = await RestartableRedis.start(['--replicaof', '127.0.0.1', String(primary.port)]);
  await until(
    async () => (await replica.cli(['INFO', 'replication'])).includes('master_link_status:up'),
    'the replica to sync',
    20_000,
  );
  const processes: ChildProcess[] = [];
  const dirs: string[] = [];
  const sentinels: { host: string; port: number }[] = [];
  for (let index = 0; index < 3; index += 1) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'q-sentinel-'));
    dirs.push(dir);
    const config = join(dir, 'sentinel.conf');
    writeFileSync(
      config,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${primary.port} 2`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    processes.push(spawn(redisServerBinary(), [config, '--sentinel'], { stdio: 'ignore' }));
    sentinels.push({ host: '127.0.0.1', port });
  }
  const masterPort = async (): Promise<number> => {
    const reply = await redisCli({ port: sentinels[0]!.port }, ['SENTINEL', 'get-master-addr-by-name', name]);
    return Number(reply.split('\n')[1]);
  };
  const stop = async (): Promise<void> => {
    for (const child of processes) child.kill('SIGKILL');
    await Promise.all([primary.stop(), replica.stop()]);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const sentinel of sentinels) {
      await until(
        async () => {
          const reply = await redisCli({ port: sentinel.port }, ['SENTINEL', 'master', name]);
          const lines = reply.split('\n');
          const field = (key: string) => Number(lines[lines.indexOf(key) + 1]);
          return field('num-other-sentinels') >= 2 && field('num-slaves') >= 1;
        },
        'the sentinels to find each other and the replica',
        30_000,
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { name, primary, replica, sentinels, masterPort, stop };
}
