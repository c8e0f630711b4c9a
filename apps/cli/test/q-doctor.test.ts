/**
 * `q doctor` names each problem that keeps tasks from running. Each test makes the problem for real in
 * its own key prefix: real @q workers receiving real signals where the problem comes from a process,
 * published server states where it comes from elsewhere (a Go server, another host's clock).
 */
import { randomUUID } from 'node:crypto';
import { createRedisBroker } from '@q/broker-redis';
import { Client } from '@q/client';
import type { Broker, ServerLifecycle, WorkerState } from '@q/core';
import { Inspector, type Diagnosis } from '@q/inspector';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startRedisServer } from '../../../test/redis-server';
import { buildCli, runQ } from './built-cli';
import { startWorker, type WorkerHandle } from './worker-handle';

let url: string;
const brokers: Broker[] = [];
const workers: WorkerHandle[] = [];

beforeAll(async () => {
  url = inject('redisUrl');
  await buildCli();
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await Promise.all(brokers.map((broker) => broker.close()));
});

interface Scenario {
  prefix: string;
  broker: Broker;
  client: Client;
  inspector: Inspector;
  doctor(...args: string[]): Promise<{ exitCode: number; diagnosis: Diagnosis; stderr: string }>;
}

function scenario(redisUrl = url): Scenario {
  const prefix = `doctor-${randomUUID().slice(0, 8)}`;
  const broker = createRedisBroker({ url: redisUrl, prefix });
  brokers.push(broker);
  return {
    prefix,
    broker,
    client: new Client({ broker }),
    inspector: new Inspector({ broker }),
    async doctor(...args) {
      const result = await runQ(['--uri', redisUrl, '--prefix', prefix, 'doctor', ...args, '--json']);
      if (result.stdout === '') throw new Error(`q doctor printed nothing: ${result.stderr}`);
      return {
        exitCode: result.exitCode,
        diagnosis: JSON.parse(result.stdout) as Diagnosis,
        stderr: result.stderr,
      };
    },
  };
}

const finding = (diagnosis: Diagnosis, code: string) =>
  diagnosis.findings.find((candidate) => candidate.code === code);

/** Publishes a server state as a server on another host would. */
async function publishServer(
  broker: Broker,
  values: {
    queues: Record<string, number>;
    lifecycle?: ServerLifecycle;
    status?: string;
    concurrency?: number;
    workers?: Partial<WorkerState>[];
  },
): Promise<void> {
  const now = Date.now();
  const server = {
    host: 'remote-host',
    pid: 777,
    serverId: randomUUID(),
    concurrency: values.concurrency ?? 4,
    queues: values.queues,
    strictPriority: false,
    status: values.status ?? 'active',
    startedAt: now - 3_600_000,
    activeWorkerCount: values.workers?.length ?? 0,
    ...(values.lifecycle ? { lifecycle: values.lifecycle } : {}),
  };
  const workers = (values.workers ?? []).map((worker, index) => ({
    host: server.host,
    pid: server.pid,
    serverId: server.serverId,
    taskId: `worker-task-${index}`,
    taskType: 'work',
    payload: new Uint8Array(0),
    queue: Object.keys(values.queues)[0]!,
    startedAt: now - 1000,
    deadline: now + 60_000,
    ...worker,
  }));
  await broker.writeServerState(server, workers, 60_000);
}

const running = (): ServerLifecycle => ({
  state: 'running',
  stateSince: Date.now() - 60_000,
  lastFetchAt: Date.now(),
});

function worker(prefix: string, queues: Record<string, number>, concurrency = 2): WorkerHandle {
  const handle = startWorker({ redisUrl: url, prefix, queues, concurrency });
  workers.push(handle);
  return handle;
}

describe('q doctor with real workers', () => {
  it.concurrent(
    'names a server made quiet by SIGTSTP, since when, and the queue it leaves unserved',
    async () => {
      const { prefix, client, inspector, doctor } = scenario();
      const handle = worker(prefix, { jobs: 1 });
      await expect.poll(() => inspector.servers(), { timeout: 15_000 }).toHaveLength(1);
      handle.child.kill('SIGTSTP');
      await expect
        .poll(async () => (await inspector.servers())[0]?.lifecycle?.state, { timeout: 10_000 })
        .toBe('quiet');
      await client.enqueue('quick', {}, { queue: 'jobs' });
      const { exitCode, diagnosis } = await doctor('jobs');
      expect(exitCode).toBe(4);
      const quiet = finding(diagnosis, 'server-not-running');
      expect(quiet?.data).toMatchObject({ state: 'quiet', lastSignal: 'SIGTSTP' });
      expect(quiet?.evidence.join('\n')).toMatch(/Last signal: SIGTSTP at \S+ \(\d+(ms|s) ago\)/);
      expect(quiet?.actions).toContainEqual(
        expect.objectContaining({ kind: 'send-signal', signal: 'SIGCONT', pid: handle.child.pid }),
      );
      expect(finding(diagnosis, 'queue-unserved')?.summary).toMatch(
        /the servers that list it are not fetching \(quiet\)/,
      );
    },
  );

  it.concurrent('names task types that fail because no handler is registered', async () => {
    const { prefix, client, inspector, doctor } = scenario();
    worker(prefix, { reports: 1 });
    await client.enqueue('pdf:render', { page: 1 }, { queue: 'reports', maxRetry: 0 });
    await expect
      .poll(
        async () =>
          (await inspector.queues()).includes('reports') &&
          (await inspector.getQueueInfo('reports')).archived,
        {
          timeout: 15_000,
        },
      )
      .toBe(1);
    const { exitCode, diagnosis } = await doctor();
    expect(exitCode).toBe(4);
    const missing = finding(diagnosis, 'handler-not-found');
    expect(missing).toMatchObject({ severity: 'error', queue: 'reports', data: { types: ['pdf:render'] } });
    expect(missing?.actions[0]).toEqual({
      kind: 'register-handler',
      queue: 'reports',
      taskTypes: ['pdf:render'],
    });
  });

  it.concurrent('names the overdue task that holds every slot while others wait', async () => {
    const { prefix, client, inspector, doctor } = scenario();
    worker(prefix, { busy: 1 }, 1);
    const stuck = await client.enqueue('hang', {}, { queue: 'busy', timeout: '1s' });
    await expect
      .poll(async () => (await inspector.servers())[0]?.lifecycle?.overdueTaskIds ?? [], { timeout: 15_000 })
      .toContain(stuck.id);
    await client.enqueue('quick', {}, { queue: 'busy' });
    const { diagnosis } = await doctor('busy');
    const saturated = finding(diagnosis, 'workers-saturated');
    expect(saturated).toMatchObject({ severity: 'error', queue: 'busy', data: { stuckTaskIds: [stuck.id] } });
    expect(saturated?.evidence.join('\n')).toMatch(
      new RegExp(
        `task ${stuck.id} \\(hang, queue busy\\): running for \\d+s, (\\d+(ms|s) past its deadline|overdue)`,
      ),
    );
    expect(saturated?.actions[0]).toEqual({ kind: 'cancel-tasks', taskIds: [stuck.id] });
  });
});

describe('q doctor with published states', () => {
  it.concurrent('names a queue no server serves, and a queue name that looks like a typo', async () => {
    const { broker, client, doctor } = scenario();
    await client.enqueue('send', {}, { queue: 'email' });
    await client.enqueue('send', {}, { queue: 'sms' });
    await publishServer(broker, { queues: { emails: 1 }, lifecycle: running() });
    const { exitCode, diagnosis } = await doctor();
    expect(exitCode).toBe(4);
    expect(finding(diagnosis, 'queue-name-mismatch')).toMatchObject({
      queue: 'email',
      data: { similar: ['emails'] },
    });
    expect(finding(diagnosis, 'queue-unserved')).toMatchObject({ queue: 'sms', severity: 'error' });
    const mistyped = await doctor('emial');
    expect(mistyped.diagnosis.findings[0]).toMatchObject({
      code: 'queue-not-found',
      data: { similar: ['email'] },
    });
    expect(mistyped.diagnosis.findings[0]?.summary).toBe(
      'Queue "emial" does not exist; did you mean "email"?',
    );
  });

  it.concurrent('names a paused queue', async () => {
    const { broker, client, inspector, doctor } = scenario();
    await client.enqueue('send', {}, { queue: 'held' });
    await inspector.pauseQueue('held');
    await publishServer(broker, { queues: { held: 1 }, lifecycle: running() });
    const { diagnosis } = await doctor('held');
    expect(diagnosis.findings.map((item) => item.code)).toEqual(['queue-paused']);
    expect(diagnosis.findings[0]?.actions).toEqual([{ kind: 'resume-queue', queue: 'held' }]);
  });

  it.concurrent('calls a long shutdown stuck, with the signal that started it', async () => {
    const { broker, doctor } = scenario();
    const since = Date.now() - 300_000;
    await publishServer(broker, {
      queues: { default: 1 },
      status: 'closed',
      lifecycle: { state: 'draining', stateSince: since, lastSignal: 'SIGTERM', lastSignalAt: since },
    });
    const { diagnosis } = await doctor();
    const stuck = finding(diagnosis, 'server-not-running');
    expect(stuck?.summary).toMatch(/has been draining for 5m( \d+s)?: its shutdown is stuck/);
    expect(stuck?.evidence.join('\n')).toMatch(/Last signal: SIGTERM at .* \(5m( \d+s)? ago\)/);
  });

  it.concurrent('sees a backlog that waits while a running server lists the queue', async () => {
    const { broker, client, doctor } = scenario();
    await publishServer(broker, {
      queues: { stalled: 1 },
      lifecycle: { ...running(), lastFetchAt: Date.now() - 600_000 },
    });
    await client.enqueue('send', {}, { queue: 'stalled' });
    await new Promise((done) => setTimeout(done, 1200));
    const { diagnosis } = await doctor('--stalled-after', '1s');
    const stalled = finding(diagnosis, 'backlog-stalled');
    expect(stalled?.queue).toBe('stalled');
    expect(stalled?.evidence.join('\n')).toMatch(/fetch loop last ran .*\(10m( \d+s)? ago\): it looks stuck/);
  });

  it.concurrent('sees a backlog growing with nothing processed', async () => {
    const { broker, client, doctor } = scenario();
    await publishServer(broker, { queues: { growing: 1 }, lifecycle: running() });
    await client.enqueue('send', {}, { queue: 'growing' });
    // Keep producing while doctor takes its two readings, two seconds apart.
    let done = false;
    const pending = doctor('--sample', '2s').finally(() => (done = true));
    while (!done) {
      await client.enqueue('send', {}, { queue: 'growing' });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const { diagnosis } = await pending;
    const evidence = finding(diagnosis, 'backlog-stalled')?.evidence[0] ?? '';
    const [, before, after] =
      /the backlog went from (\d+) to (\d+) pending and no task was processed/.exec(evidence) ?? [];
    expect(Number(after)).toBeGreaterThan(Number(before));
  });

  it.concurrent('explains that the tasks wait in the future', async () => {
    const { broker, client, doctor } = scenario();
    await publishServer(broker, { queues: { later: 1 }, lifecycle: running() });
    await client.enqueue('send', {}, { queue: 'later', processIn: '2h' });
    const { exitCode, diagnosis } = await doctor('later');
    expect(exitCode).toBe(0);
    expect(diagnosis.findings).toMatchObject([{ code: 'tasks-scheduled-later', severity: 'info' }]);
    expect(diagnosis.findings[0]?.summary).toMatch(/the next in (1h 59m|2h)/);
  });

  it.concurrent(
    'names servers whose clock runs ahead: by the TTL Redis counts, and by a fetch in the future',
    async () => {
      const { broker, prefix, doctor } = scenario();
      // A Go server whose clock is 90 s fast scores its heartbeat 90 s later than Redis counts its TTL.
      await publishServer(broker, { queues: { default: 1 } });
      const raw = (
        broker as Broker & {
          connection: {
            zrange(key: string, start: number, stop: number): Promise<string[]>;
            zadd(...args: (string | number)[]): Promise<unknown>;
          };
        }
      ).connection;
      const [member] = await raw.zrange(`${prefix}:servers`, 0, 0);
      await raw.zadd(`${prefix}:servers`, 'XX', Math.floor(Date.now() / 1000) + 60 + 90, member!);
      const { diagnosis } = await doctor();
      const skew = finding(diagnosis, 'clock-skew');
      expect(skew?.severity).toBe('error');
      expect(skew?.summary).toMatch(/off from the store/);
      expect(skew?.evidence).toEqual([
        expect.stringMatching(/^server remote-host:777: 1m (2[89]|3[01])s ahead of the store$/),
      ]);

      const other = scenario();
      await publishServer(other.broker, {
        queues: { default: 1 },
        lifecycle: { ...running(), lastFetchAt: Date.now() + 45_000 },
      });
      const ahead = finding((await other.doctor()).diagnosis, 'clock-skew');
      expect(ahead?.evidence[0]).toMatch(/^server remote-host:777: at least 4\ds ahead of the store$/);
    },
  );

  it.concurrent('warns about a Redis that evicts keys when full', async () => {
    const redis = await startRedisServer({
      args: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'],
    });
    try {
      const { doctor } = scenario(redis.url);
      const { exitCode, diagnosis } = await doctor();
      expect(exitCode).toBe(4);
      expect(finding(diagnosis, 'store-evicts-keys')).toMatchObject({
        severity: 'error',
        data: { evictionPolicy: 'allkeys-lru' },
        actions: [{ kind: 'stop-store-eviction', policy: 'allkeys-lru' }],
      });
      const printed = await runQ(['--uri', redis.url, 'doctor']);
      expect(printed.stdout).toContain('What to do: Set maxmemory-policy to noeviction (CONFIG SET');
    } finally {
      await redis.stop();
    }
  });

  it.concurrent('prints findings for people, with evidence and what to do', async () => {
    const { client, prefix } = scenario();
    await client.enqueue('send', {}, { queue: 'nobody' });
    const result = await runQ(['--uri', url, '--prefix', prefix, 'doctor']);
    expect(result.exitCode).toBe(4);
    expect(result.stdout).toMatch(/^1 problem found in 1 queue and 0 live servers\./);
    expect(result.stdout).toMatch(
      /\nERROR queue-unserved \(queue nobody\)\n {2}No running server serves queue "nobody": its tasks wait for nobody\.\n {4}- Queue "nobody": 1 pending/,
    );
    expect(result.stdout).toMatch(/\n {2}What to do: Start a server with "nobody" among its queues/);
  });
});
