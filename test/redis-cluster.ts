/**
 * Starts a throwaway Redis Cluster for tests: three `redis-server --cluster-enabled yes` masters on free
 * ports, each in its own temp dir, joined with `redis-cli --cluster create`. Never touches a Redis the
 * tests did not start.
 */
import { spawnSync } from 'node:child_process';
import { startRedisServer, type RedisServerHandle } from './redis-server';

export interface RedisClusterHandle {
  nodes: { host: string; port: number }[];
  servers: RedisServerHandle[];
  /** Stops every node and removes their data dirs. */
  stop(): Promise<void>;
}

export interface StartRedisClusterOptions {
  /** Number of masters (no replicas). @default 3 */
  size?: number;
  /** How long to wait for the cluster to report `cluster_state:ok`. @default 20000 */
  timeoutMs?: number;
}

function redisCli(args: string[]): { status: number | null; output: string } {
  const result = spawnSync('redis-cli', args, { encoding: 'utf8', timeout: 30_000 });
  if (result.error) {
    throw new Error(
      `redis-cli could not be run (${result.error.message}); it comes with redis-server (apt-get install redis-tools).`,
    );
  }
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const size = options.size ?? 3;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const servers: RedisServerHandle[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((server) => server.stop()));
  };
  try {
    for (let index = 0; index < size; index += 1) {
      servers.push(
        await startRedisServer({
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            '5000',
          ],
        }),
      );
    }
    const addresses = servers.map((server) => `${server.host}:${server.port}`);
    const created = redisCli([
      '--cluster',
      'create',
      ...addresses,
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${created.output}`);
    const deadline = Date.now() + timeoutMs;
    for (const server of servers) {
      for (;;) {
        const info = redisCli(['-h', server.host, '-p', String(server.port), 'cluster', 'info']).output;
        if (info.includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error(`Redis Cluster did not become ready:\n${info}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes: servers.map((server) => ({ host: server.host, port: server.port })), servers, stop };
}
