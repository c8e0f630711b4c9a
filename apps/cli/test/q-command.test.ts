/** The built q command, run as a subprocess against a real redis-server holding queues in every state. */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRedisBroker } from '@q/broker-redis';
import { Client } from '@q/client';
import { queueNameRule, type Broker } from '@q/core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, startRedisServer, type RedisServerHandle } from '../../../test/redis-server';
import { buildCli, cliBinary, runQ } from './built-cli';
import { populateEveryState, taskIds } from './populate-redis';

const prefix = `cli-${randomUUID().slice(0, 8)}`;
let url: string;
let broker: Broker;
let q: (...args: string[]) => ReturnType<typeof runQ>;
const json = <T = unknown>(text: string): T => JSON.parse(text) as T;

beforeAll(async () => {
  url = inject('redisUrl');
  q = (...args) => runQ(['--uri', url, '--prefix', prefix, ...args]);
  broker = createRedisBroker({ url, prefix });
  await Promise.all([buildCli(), populateEveryState(broker, 'orders'), populateEveryState(broker, 'ops')]);
  const now = Date.now();
  await broker.writeServerState(
    {
      host: 'worker-host',
      pid: 4242,
      serverId: 'server-1',
      concurrency: 4,
      queues: { orders: 6, ops: 1 },
      strictPriority: false,
      status: 'stopped',
      startedAt: now - 3_600_000,
      activeWorkerCount: 1,
      lifecycle: {
        state: 'quiet',
        stateSince: now - 120_000,
        lastSignal: 'SIGTSTP',
        lastSignalAt: now - 120_000,
        lastFetchAt: now - 120_000,
      },
    },
    [
      {
        host: 'worker-host',
        pid: 4242,
        serverId: 'server-1',
        taskId: 'a-1',
        taskType: 'email:send',
        payload: new Uint8Array(0),
        queue: 'orders',
        startedAt: now - 30_000,
        deadline: now + 570_000, // 9.5 min: prints "in 9m" however the second is rounded
      },
    ],
    60_000,
  );
  await broker.writeSchedulerEntries(
    { host: 'cron-host', pid: 7, schedulerId: 'scheduler-1' },
    [
      {
        id: 'entry-1',
        spec: '*/5 * * * *',
        taskType: 'report:daily',
        payload: new TextEncoder().encode('{}'),
        enqueueOptions: ['Queue("orders")'],
        nextEnqueueAt: now + 300_000,
        previousEnqueueAt: now - 60_000,
      },
    ],
    60_000,
  );
  await broker.recordSchedulerEnqueue('entry-1', { taskId: 'p-1', enqueuedAt: now - 60_000 });
});

afterAll(async () => {
  await broker?.close();
});

describe('q, reading', () => {
  it.concurrent('stats: counts by state and queue, as a table and as JSON', async () => {
    const table = await q('stats');
    expect(table.exitCode).toBe(0);
    expect(table.stdout).toMatch(
      /Task Count by State\nactive +pending +aggregating +scheduled +retry +archived +completed\n[- ]+\n2 +4 +4 +2 +2 +2 +2/,
    );
    expect(table.stdout).toMatch(/Redis Info|Daily Stats/);
    const { aggregate, queues } = json<{ aggregate: Record<string, number>; queues: { queue: string }[] }>(
      (await q('stats', '--json')).stdout,
    );
    expect(aggregate).toMatchObject({
      active: 2,
      pending: 4,
      aggregating: 4,
      scheduled: 2,
      retry: 2,
      archived: 2,
      completed: 2,
    });
    expect(queues.map((queue) => queue.queue)).toEqual(['ops', 'orders']);
  });

  it('queue limit: sets, shows and clears flow limits; ls and inspect show them', async () => {
    // A prefix of its own: the queue listings of the other tests stay as they are.
    const ownPrefix = `cli-${randomUUID().slice(0, 8)}`;
    const ownBroker = createRedisBroker({ url, prefix: ownPrefix });
    const q = (...args: string[]) => runQ(['--uri', url, '--prefix', ownPrefix, ...args]);
    const limited = 'partner-api';
    await populateEveryState(ownBroker, 'orders');
    await populateEveryState(ownBroker, limited);
    const set = await q('queue', 'limit', limited, '--concurrency', '5', '--rate', '50/s');
    expect(set.exitCode).toBe(0);
    expect(set.stdout).toMatch(/Concurrency: 5 at once \(1 running now, all servers\)\nRate: +50\/1s/);
    const shown = json<Record<string, unknown>>((await q('queue', 'limit', limited, '--json')).stdout);
    expect(shown).toMatchObject({
      queue: limited,
      concurrency: 5,
      rate: { limit: 50, period: 1000 },
      running: 1,
    });
    const ls = await q('queue', 'ls');
    expect(ls.stdout).toMatch(/Queue +Concurrency +Rate +Running\n/);
    expect(ls.stdout).toMatch(new RegExp(`${limited} +5 +50/1s +1\n`));
    const listed = json<{ queue: string; limits?: { concurrency?: number } }[]>(
      (await q('queue', 'ls', '--json')).stdout,
    );
    expect(listed.find((entry) => entry.queue === limited)?.limits?.concurrency).toBe(5);
    expect(listed.find((entry) => entry.queue === 'orders')).toEqual({ queue: 'orders' });
    expect((await q('queue', 'inspect', limited)).stdout).toMatch(/Flow Limits.*\nConcurrency: 5 at once/);
    const [info] = json<Record<string, unknown>[]>((await q('queue', 'inspect', limited, '--json')).stdout);
    expect(info).toMatchObject({ limits: { concurrency: 5, rate: { limit: 50, period: 1000 } } });

    const off = json<Record<string, unknown>>(
      (await q('queue', 'limit', limited, '--concurrency', 'off', '--json')).stdout,
    );
    expect(off).not.toHaveProperty('concurrency');
    expect(off).toMatchObject({ rate: { limit: 50 } });
    const bad = await q('queue', 'limit', limited, '--rate', '50');
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toMatch(/N\/DURATION/);
    const both = await q('queue', 'limit', limited, '--clear', '--concurrency', '3');
    expect(both.exitCode).not.toBe(0);
    expect(both.stderr).toMatch(/--clear removes every limit/);
    expect((await q('queue', 'limit', limited, '--clear')).stdout).toMatch(/Concurrency: none\nRate: +none/);
    expect((await q('queue', 'ls')).stdout).toBe(`orders\n${limited}\n`);
    await ownBroker.close();
  });

  it('queue limit --per-key: sets the limits of each flow key; inspect shows the parked tasks', async () => {
    const ownPrefix = `cli-${randomUUID().slice(0, 8)}`;
    const ownBroker = createRedisBroker({ url, prefix: ownPrefix });
    const q = (...args: string[]) => runQ(['--uri', url, '--prefix', ownPrefix, ...args]);
    const tenants = 'tenants';
    const set = await q('queue', 'limit', tenants, '--per-key', '--concurrency', '1', '--rate', '10/s');
    expect(set.exitCode).toBe(0);
    expect(set.stdout).toMatch(/Concurrency: none\nRate: +none\nPer key: +concurrency 1, rate 10\/1s\n/);
    const client = new Client({ broker: ownBroker });
    for (const flowKey of ['acme', 'acme', 'acme', 'globex']) {
      await client.enqueue('tenant:sync', {}, { queue: tenants, flowKey });
    }
    expect((await ownBroker.dequeue([tenants], { count: 10, leaseDuration: 30_000 })).tasks).toHaveLength(2);
    const [info] = json<{ pending: number; limits: Record<string, unknown> }[]>(
      (await q('queue', 'inspect', tenants, '--json')).stdout,
    );
    expect(info!.pending).toBe(2);
    expect(info!.limits).toMatchObject({
      perKey: {
        concurrency: 1,
        rate: { limit: 10, period: 1000 },
        parked: 2,
        parkedKeys: 1,
        keys: [{ key: 'acme', parked: 2, running: 1, startedInWindow: 1 }],
      },
    });
    expect((await q('queue', 'inspect', tenants)).stdout).toMatch(
      /Parked: +2 tasks of 1 keys wait for their key's limit \(counted as pending\)\n {2}acme: 2 waiting, 1 running/,
    );
    const alone = await q('queue', 'limit', tenants, '--per-key');
    expect(alone.exitCode).not.toBe(0);
    expect(alone.stderr).toMatch(/--per-key sets the limits of each flow key/);
    const off = json<{ perKey?: Record<string, unknown> }>(
      (await q('queue', 'limit', tenants, '--per-key', '--concurrency', 'off', '--rate', 'off', '--json'))
        .stdout,
    );
    expect(off.perKey).toBeUndefined();
    // The parked tasks went back to pending.
    expect((await ownBroker.dequeue([tenants], { count: 10, leaseDuration: 30_000 })).tasks).toHaveLength(2);
    await ownBroker.close();
  });

  it.concurrent('queue ls, inspect and history', async () => {
    expect((await q('queue', 'ls')).stdout).toBe('ops\norders\n');
    expect(json((await q('queue', 'ls', '--json')).stdout)).toEqual([{ queue: 'ops' }, { queue: 'orders' }]);
    const inspect = await q('queue', 'inspect', 'orders');
    expect(inspect.stdout).toMatch(/Name: +orders\nSize: +9\nGroups: +1\nPaused: +false/);
    expect(inspect.stdout).toMatch(/1 +2 +2 +1 +1 +1 +1\n/);
    const [info] = json<Record<string, unknown>[]>((await q('queue', 'inspect', 'orders', '--json')).stdout);
    expect(info).toMatchObject({
      queue: 'orders',
      pending: 2,
      active: 1,
      retry: 1,
      processedToday: 3,
      failedToday: 2,
    });
    const history = json<{ date: string; processed: number }[]>(
      (await q('queue', 'history', 'orders', '-x', '2', '--json')).stdout,
    );
    expect(history).toHaveLength(2);
    expect(history[0]).toMatchObject({ processed: 3, failed: 2 });
    const missing = await q('queue', 'inspect', 'orders', 'nope');
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/Queue "nope" does not exist/);
    expect(missing.stdout).toMatch(/Name: +orders/);
  });

  it.concurrent('task ls: every state, with state-specific columns', async () => {
    for (const [state, ids] of Object.entries(taskIds)) {
      const args = [
        'task',
        'ls',
        '--queue',
        'orders',
        '--state',
        state,
        ...(state === 'aggregating' ? ['--group', 'daily'] : []),
        '--json',
      ];
      const result = await q(...args);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(
        json<{ id: string }[]>(result.stdout)
          .map((task) => task.id)
          .sort(),
        state,
      ).toEqual([...ids].sort());
    }
    const retry = await q('task', 'ls', '-q', 'orders', '-s', 'retry');
    expect(retry.stdout).toMatch(
      /ID +Type +Payload +Next Retry +Last Error +Last Failed +Retried +Max Retry/,
    );
    expect(retry.stdout).toMatch(
      /r-1 +email:send +\{"to":"r-1@example.com"\} +in 59m \d+s +smtp: connection reset/,
    );
    const page = json<{ id: string }[]>(
      (await q('task', 'ls', '-q', 'orders', '-s', 'pending', '--page', '2', '--size', '1', '--json')).stdout,
    );
    expect(page.map((task) => task.id)).toEqual(['p-2']);
    const empty = await q('task', 'ls', '-q', 'orders', '-s', 'pending', '--page', '9');
    expect(empty.stdout).toBe('No pending tasks in queue "orders" on page 9\n');
  });

  it.concurrent('task inspect, as text and JSON with the payload as text and base64', async () => {
    const text = await q('task', 'inspect', '--queue', 'orders', '--id', 'r-1');
    expect(text.stdout).toMatch(/State: +retry\nRetried: +1\/3/);
    expect(text.stdout).toMatch(/Last Failure\nFailed at: .*\nError message: smtp: connection reset/);
    const info = json<Record<string, unknown>>(
      (await q('task', 'inspect', '-q', 'orders', '-i', 'c-1', '--json')).stdout,
    );
    expect(info).toMatchObject({
      id: 'c-1',
      state: 'completed',
      result: 'sent',
      resultBase64: 'c2VudA==',
      payload: '{"to":"c-1@example.com"}',
    });
    const missing = await q('task', 'inspect', '-q', 'orders', '-i', 'nope');
    expect(missing).toMatchObject({
      exitCode: 1,
      stderr: 'q: Task "nope" was not found in queue "orders".\n',
    });
  });

  it.concurrent(
    'group ls, server ls with state, last signal and running tasks, cron ls and history',
    async () => {
      expect((await q('group', 'ls', '-q', 'orders')).stdout).toMatch(/Group +Size\n-+ +-+\ndaily +2/);
      const servers = await q('server', 'ls');
      expect(servers.stdout).toMatch(
        /worker-host +4242 +quiet +2m (\d+s )?ago +SIGTSTP 2m (\d+s )?ago +1\/4 +orders:6 ops:1 +1h ago/,
      );
      expect(servers.stdout).toMatch(
        /Running Tasks\n.*\n.*\nworker-host:4242 +a-1 +email:send +orders +\d+s ago +in 9m/,
      );
      const [server] = json<Record<string, unknown>[]>((await q('server', 'ls', '--json')).stdout);
      expect(server).toMatchObject({
        host: 'worker-host',
        state: 'quiet',
        lifecycle: { lastSignal: 'SIGTSTP' },
      });
      const cron = await q('cron', 'ls');
      expect(cron.stdout).toMatch(
        /entry-1 +\*\/5 \* \* \* \* +report:daily +\{\} +Queue\("orders"\) +In (4m \d+s|5m) +1m( \d+s)? ago/,
      );
      const history = await q('cron', 'history', 'entry-1');
      expect(history.stdout).toMatch(/Entry: entry-1\n\nTaskID +EnqueuedAt\n.*\np-1 +\d{4}-/);
    },
  );
});

describe('q, changing', () => {
  it('task run, archive, delete and cancel', async () => {
    expect(await q('task', 'run', '-q', 'ops', '-i', 'x-1')).toMatchObject({
      exitCode: 0,
      stdout: 'Task is now pending: x-1\n',
    });
    expect((await q('task', 'archive', '-q', 'ops', '-i', 's-1')).exitCode).toBe(0);
    expect((await q('task', 'delete', '-q', 'ops', '-i', 'r-1')).exitCode).toBe(0);
    const states = await Promise.all(
      ['x-1', 's-1'].map(
        async (id) =>
          json<{ state: string }>((await q('task', 'inspect', '-q', 'ops', '-i', id, '--json')).stdout).state,
      ),
    );
    expect(states).toEqual(['pending', 'archived']);
    const refused = await q('task', 'run', '-q', 'ops', '-i', 'p-1');
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/^q: .*pending/);
    const received: string[] = [];
    const unsubscribe = await broker.subscribeCancel((taskId) => received.push(taskId));
    expect((await q('task', 'cancel', 'a-1')).stdout).toBe('Sent the cancel signal for task a-1\n');
    await expect.poll(() => received).toContain('a-1');
    await unsubscribe();
  });

  it('task archiveall, deleteall and runall', async () => {
    expect((await q('task', 'archiveall', '-q', 'ops', '-s', 'aggregating', '-g', 'daily')).stdout).toBe(
      '2 tasks archived\n',
    );
    expect((await q('task', 'runall', '-q', 'ops', '-s', 'archived')).stdout).toBe('3 tasks now pending\n');
    expect(json((await q('task', 'deleteall', '-q', 'ops', '-s', 'pending', '--json')).stdout)).toEqual({
      queue: 'ops',
      state: 'pending',
      count: 6,
    });
    const wrong = await q('task', 'runall', '-q', 'ops', '-s', 'pending');
    expect(wrong.exitCode).toBe(2);
    expect(wrong.stderr).toMatch(/expected one of aggregating \| scheduled \| retry \| archived/);
  });

  it('task enqueue with Asynq flags', async () => {
    const result = await q(
      'task',
      'enqueue',
      '-t',
      'thumbnail',
      '-l',
      '{"w":64}',
      '--queue',
      'images',
      '--process_in',
      '10m',
      '--retry',
      '2',
      '--id',
      'img-1',
      '--json',
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect(json(result.stdout)).toMatchObject({
      id: 'img-1',
      queue: 'images',
      state: 'scheduled',
      maxRetry: 2,
      payload: '{"w":64}',
    });
    const plain = await q(
      'task',
      'enqueue',
      '--type_name',
      'thumbnail',
      '--payload',
      'raw bytes',
      '--queue',
      'images',
    );
    expect(plain.stdout).toMatch(/^Enqueued task [0-9a-f-]{36} to queue "images" \(pending\)\n$/);
    const duplicate = await q('task', 'enqueue', '-t', 'thumbnail', '--queue', 'images', '--id', 'img-1');
    expect(duplicate.exitCode).toBe(1);
    expect(duplicate.stderr).toMatch(/img-1/);
  });

  it('queue pause, resume and rm, with and without --force', async () => {
    expect((await q('queue', 'pause', 'orders')).stdout).toBe('Paused queue "orders"\n');
    expect(
      json<{ paused: boolean }[]>((await q('queue', 'inspect', 'orders', '--json')).stdout)[0]!.paused,
    ).toBe(true);
    expect((await q('queue', 'resume', 'orders')).stdout).toBe('Resumed queue "orders"\n');
    const notEmpty = await q('queue', 'rm', 'images');
    expect(notEmpty.exitCode).toBe(1);
    expect(notEmpty.stderr).toMatch(/q queue rm --force images/);
    expect((await q('queue', 'rm', '--force', 'images')).stdout).toBe('Removed queue "images"\n');
    expect((await q('queue', 'ls', '--json')).stdout).not.toContain('images');
  });
});

describe('q, failing well', () => {
  it.concurrent(
    'says plainly that Redis cannot be reached, exits 3 and never prints the password',
    async () => {
      const port = await freePort();
      const result = await runQ(['--uri', `redis://app:canary-secret@127.0.0.1:${port}`, 'queue', 'ls']);
      expect(result.exitCode).toBe(3);
      expect(result.stderr).toMatch(
        new RegExp(
          `^q: Cannot reach Redis at redis://app:\\*\\*\\*@127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`,
        ),
      );
      expect(result.stdout + result.stderr).not.toContain('canary-secret');
      const fromEnvironment = await runQ(['stats'], { env: { Q_REDIS_URL: `redis://127.0.0.1:${port}` } });
      expect(fromEnvironment.exitCode).toBe(3);
    },
  );

  it.concurrent('reports refused credentials without echoing them, and takes Q_REDIS_PASSWORD', async () => {
    let server: RedisServerHandle | undefined;
    try {
      server = await startRedisServer();
      const setup = createRedisBroker({ url: server.url }) as Broker & {
        connection: { config(...args: string[]): Promise<unknown> };
      };
      await setup.connection.config('SET', 'requirepass', 'right-canary');
      await setup.close();
      const wrong = await runQ(['--uri', server.url, '--password', 'wrong-canary', 'queue', 'ls']);
      expect(wrong.exitCode).toBe(3);
      expect(wrong.stderr).toMatch(/refused the credentials/);
      expect(wrong.stdout + wrong.stderr).not.toMatch(/canary/);
      const right = await runQ(['--uri', server.url, 'queue', 'ls'], {
        env: { Q_REDIS_PASSWORD: 'right-canary' },
      });
      expect(right).toMatchObject({ exitCode: 0, stdout: 'No queues\n' });
    } finally {
      await server?.stop();
    }
  });

  it.concurrent('holds queue names to the same rule as the client and the inspector', async () => {
    const own = (...args: string[]) => runQ(['--uri', url, '--prefix', `${prefix}-names`, ...args]);
    const spaced = await own('task', 'enqueue', '-t', 'x', '--queue', 'bad queue', '--json');
    expect(spaced.exitCode, spaced.stderr).toBe(0);
    expect(json(spaced.stdout)).toMatchObject({ queue: 'bad queue', state: 'pending' });
    expect(json((await own('queue', 'inspect', 'bad queue', '--json')).stdout)).toMatchObject([
      { queue: 'bad queue', pending: 1 },
    ]);
    const braces = await own('queue', 'inspect', 'a{b}');
    expect(braces.exitCode).toBe(2);
    expect(braces.stderr).toBe(`q: queue "a{b}" contains '{': ${queueNameRule}.\n`);
    const padded = await own('task', 'enqueue', '-t', 'x', '--queue', ' bad');
    expect(padded.exitCode).toBe(2);
    expect(padded.stderr).toBe(`q: options.queue " bad" begins or ends with whitespace: ${queueNameRule}.\n`);
  });

  it.concurrent('exits 2 on a bad command line and 0 on --help', async () => {
    expect((await runQ(['nope'])).exitCode).toBe(2);
    expect((await runQ(['task', 'ls', '--queue', 'x'])).stderr).toMatch(
      /required option '-s, --state <state>'/,
    );
    expect((await runQ(['task', 'ls', '-q', 'x', '-s', 'aggregating'])).exitCode).toBe(2);
    expect((await runQ(['queue', 'history', 'x', '-x', 'zero'])).exitCode).toBe(2);
    const help = await runQ(['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(
      /Exit status: 0 done, 1 the operation failed, 2 bad command line, 3 Redis unreachable/,
    );
  });
});

describe('q metrics', () => {
  it('serves /metrics on loopback until SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [cliBinary, '--uri', url, '--prefix', prefix, 'metrics', '--port', '0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      await expect
        .poll(() => stderr, { timeout: 10_000 })
        .toMatch(/Serving metrics at http:\/\/127\.0\.0\.1:\d+\/metrics/);
      const address = /http:\/\/\S+\/metrics/.exec(stderr)![0];
      const response = await fetch(address);
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(text).toContain('asynq_tasks_enqueued_total{queue="orders",state="retry"} 1');
      expect(text).toContain('asynq_queue_size{queue="orders"}');
      expect(text).toContain('q_servers{state="quiet"} 1');
      expect((await fetch(address.replace('/metrics', '/other'))).status).toBe(404);
    } finally {
      const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
