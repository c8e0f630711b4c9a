/**
 * Vitest global setup: one throwaway redis-server for the whole run. Tests read its URL with
 * `inject('redisUrl')` and isolate themselves with their own queue names or key prefix.
 */
import type { TestProject } from 'vitest/node';
import type {} from './vitest-context';
import { startRedisServer, type RedisServerHandle } from './redis-server';

let server: RedisServerHandle | undefined;

export async function setup(project: TestProject): Promise<void> {
  server = await startRedisServer();
  project.provide('redisUrl', server.url);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
