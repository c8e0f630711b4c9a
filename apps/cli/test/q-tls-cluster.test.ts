/** The q command over TLS (a self-signed certificate) and against a Redis Cluster of three masters. */
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedisServer, type RedisServerHandle } from '../../../test/redis-server';
import { makeSelfSignedCertificate } from '../../../test/self-signed-certificate';
import { buildCli, runQ } from './built-cli';

const servers: RedisServerHandle[] = [];
const has = (command: string): boolean =>
  spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim() !== '';

beforeAll(async () => {
  await buildCli();
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

describe.skipIf(!has('openssl'))('q over TLS', () => {
  it('refuses an untrusted certificate with a clear message, and connects with --insecure or the CA', async () => {
    const plain = await startRedisServer();
    servers.push(plain);
    const { certFile: certificate, keyFile: key } = makeSelfSignedCertificate({
      host: 'redis.test',
      dir: plain.dir,
    });
    await plain.stop({ keepData: true });
    const port = await freePort();
    let tlsPort = await freePort();
    while (tlsPort === port) tlsPort = await freePort();
    const tlsServer = await startRedisServer({
      port,
      dir: plain.dir,
      args: [
        '--tls-port',
        String(tlsPort),
        '--tls-cert-file',
        certificate,
        '--tls-key-file',
        key,
        '--tls-auth-clients',
        'no',
      ],
    });
    servers.push(tlsServer);
    const address = `127.0.0.1:${tlsPort}`;
    const untrusted = await runQ(['--uri', address, '--tls', 'queue', 'ls']);
    expect(untrusted.exitCode).toBe(3);
    expect(untrusted.stderr).toMatch(
      /presented a certificate that is not trusted \(self-signed certificate\)\. Add its CA with NODE_EXTRA_CA_CERTS/,
    );
    expect(await runQ(['--uri', address, '--tls', '--insecure', 'queue', 'ls'])).toMatchObject({
      exitCode: 0,
      stdout: 'No queues\n',
    });
    const trusted = await runQ(
      ['--uri', `rediss://${address}`, '--tls_server', 'redis.test', 'stats', '--json'],
      {
        env: { NODE_EXTRA_CA_CERTS: certificate },
      },
    );
    expect(trusted.exitCode, trusted.stderr).toBe(0);
  });
});

describe.skipIf(!has('redis-cli'))('q on a Redis Cluster', () => {
  it('lists queues with their key slot and node, and reads and writes tasks', async () => {
    const nodes = await Promise.all(
      [0, 1, 2].map(() => startRedisServer({ args: ['--cluster-enabled', 'yes'] })),
    );
    servers.push(...nodes);
    execFileSync(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-yes'],
      {
        stdio: 'ignore',
      },
    );
    const uri = nodes.map((node) => `127.0.0.1:${node.port}`).join(',');
    const q = (...args: string[]): ReturnType<typeof runQ> => runQ(['--cluster', '--uri', uri, ...args]);
    await expect
      .poll(
        () =>
          execFileSync('redis-cli', ['-p', String(nodes[0]!.port), 'cluster', 'info'], { encoding: 'utf8' }),
        { timeout: 10_000 },
      )
      .toMatch(/cluster_state:ok/);
    await expect
      .poll(
        async () => (await q('task', 'enqueue', '-t', 'hello', '-l', 'x', '--queue', 'critical')).exitCode,
        { timeout: 10_000 },
      )
      .toBe(0);
    expect((await q('task', 'enqueue', '-t', 'hello', '-l', 'y', '--queue', 'default')).exitCode).toBe(0);
    const slots = Object.fromEntries(
      ['critical', 'default'].map((queue) => [
        queue,
        execFileSync(
          'redis-cli',
          ['-p', String(nodes[0]!.port), 'cluster', 'keyslot', `asynq:{${queue}}:pending`],
          { encoding: 'utf8' },
        ).trim(),
      ]),
    );
    const listed = await q('queue', 'ls');
    expect(listed.stdout).toMatch(new RegExp(`critical +${slots.critical} +127\\.0\\.0\\.1:\\d+\\n`));
    expect(listed.stdout).toMatch(new RegExp(`default +${slots.default} +127\\.0\\.0\\.1:\\d+\\n`));
    expect(
      JSON.parse((await q('task', 'ls', '-q', 'critical', '-s', 'pending', '--json')).stdout),
    ).toHaveLength(1);
    const stats = await q('stats');
    expect(stats.stdout).toMatch(/Redis Cluster Info\nversion +mode[\s\S]*cluster/);
    expect((await q('--db', '1', 'queue', 'ls')).stderr).toMatch(/only database 0/);
  });
});
