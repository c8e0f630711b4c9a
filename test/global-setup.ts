/**
 * Vitest global setup: one throwaway redis-server for the whole run. Tests read its URL with
 * `inject('redisUrl')` and isolate themselves with their own queue names or key prefix.
 *
 * With `Q_TEST_ACL=1`, `redisUrl` logs in as a least-privilege ACL user (test/least-privilege-acl.ts,
 * every key and channel, no dangerous command), as a production @q process would; tests that make
 * faults (CONFIG SET, DEBUG, CLIENT KILL, SCRIPT FLUSH) use `inject('redisAdminUrl')`, the default user.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import type {} from './vitest-context';
import { leastPrivilegeAcl } from './least-privilege-acl';
import { startRedisServer, type RedisServerHandle } from './redis-server';

let server: RedisServerHandle | undefined;

export async function setup(project: TestProject): Promise<void> {
  server = await startRedisServer();
  project.provide('redisAdminUrl', server.url);
  const acl = process.env.Q_TEST_ACL === '1';
  project.provide('redisAcl', acl);
  if (!acl) {
    project.provide('redisUrl', server.url);
    return;
  }
  const user = 'q-test';
  const password = `q-test-${randomUUID()}`;
  const created = spawnSync(
    'redis-cli',
    [
      '-p',
      String(server.port),
      'ACL',
      'SETUSER',
      ...leastPrivilegeAcl({ user, password, keys: '*', channels: '*' }),
    ],
    { encoding: 'utf8' },
  );
  if (created.stdout.trim() !== 'OK') {
    throw new Error(`Q_TEST_ACL=1: could not create the ACL user: ${created.stdout}${created.stderr}`);
  }
  project.provide('redisUrl', `redis://${user}:${password}@127.0.0.1:${server.port}`);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
