/** Queue limits through the inspector, against a real redis-server, and the diagnosis of a limited backlog. */
import { randomUUID } from 'node:crypto';
import { createRedisBroker, type RedisBroker } from '@q/broker-redis';
import { BrokerError, flowKeyHeader, ValidationError, type QueueAdmin } from '@q/core';
import { emptyTaskMessage } from '@q/core/internal';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { Inspector } from './inspector';
import { describeFlowRate, parseFlowRate } from './queue-limits';

const brokers: RedisBroker[] = [];
afterEach(async () => {
  await Promise.all(brokers.splice(0).map((broker) => broker.close()));
});

function setup(): { broker: RedisBroker; inspector: Inspector; queue: string } {
  const broker = createRedisBroker({ url: inject('redisUrl'), prefix: `qi-${randomUUID().slice(0, 8)}` });
  brokers.push(broker);
  return { broker, inspector: new Inspector({ broker }), queue: 'partner' };
}

async function enqueue(broker: RedisBroker, queue: string, count: number): Promise<void> {
  for (let index = 0; index < count; index += 1) {
    await broker.enqueue({
      message: {
        ...emptyTaskMessage(),
        id: randomUUID(),
        type: 'call',
        queue,
        maxRetry: 3,
        timeoutSeconds: 60,
      },
    });
  }
}

async function enqueueKeyed(broker: RedisBroker, queue: string, flowKeys: readonly string[]): Promise<void> {
  for (const flowKey of flowKeys) {
    await broker.enqueue({
      message: {
        ...emptyTaskMessage(),
        id: randomUUID(),
        type: 'call',
        queue,
        maxRetry: 3,
        timeoutSeconds: 60,
        headers: { [flowKeyHeader]: flowKey },
      },
    });
  }
}

/** A running @q server that lists `queue`, as a real one publishes itself (Go Asynq's has no lifecycle). */
async function publishServer(broker: RedisBroker, queue: string, go = false): Promise<void> {
  const now = Date.now();
  await broker.writeServerState(
    {
      host: 'test-host',
      pid: 1,
      serverId: randomUUID(),
      concurrency: 10,
      queues: { [queue]: 1 },
      strictPriority: false,
      status: 'active',
      startedAt: now - 600_000,
      activeWorkerCount: 1,
      ...(go ? {} : { lifecycle: { state: 'running', stateSince: now - 600_000, lastFetchAt: now - 100 } }),
    },
    [],
    60_000,
  );
}

describe('queue limits', () => {
  it('parses and shows rates as N/DURATION, and says what to write when it cannot', () => {
    expect(parseFlowRate('50/s')).toEqual({ limit: 50, period: 1000 });
    expect(parseFlowRate('100/1s')).toEqual({ limit: 100, period: 1000 });
    expect(parseFlowRate('1000 / 5m')).toEqual({ limit: 1000, period: 300_000 });
    expect(parseFlowRate('3/250ms')).toEqual({ limit: 3, period: 250 });
    expect(() => parseFlowRate('50')).toThrow(/N\/DURATION.*'50\/s'/);
    expect(() => parseFlowRate('0/s')).toThrow(ValidationError);
    expect(() => parseFlowRate('5/soon')).toThrow(ValidationError);
    expect(describeFlowRate({ limit: 50, period: 1000 })).toBe('50/1s');
    expect(describeFlowRate({ limit: 7, period: 90_000 })).toBe('7/90s');
    expect(describeFlowRate({ limit: 3, period: 250 })).toBe('3/250ms');
  });

  it('sets, shows, changes and clears limits; queue info carries them', async () => {
    const { broker, inspector, queue } = setup();
    await enqueue(broker, queue, 1);
    expect((await inspector.getQueueInfo(queue)).limits).toBeUndefined();
    const set = await inspector.setQueueLimits(queue, { concurrency: 5, rate: '50/s' });
    expect(set).toMatchObject({ concurrency: 5, rate: { limit: 50, period: 1000 }, running: 0 });
    expect((await inspector.getQueueInfo(queue)).limits).toMatchObject({ concurrency: 5 });
    await inspector.setQueueLimits(queue, { concurrency: null });
    expect(await inspector.getQueueLimits(queue)).not.toHaveProperty('concurrency');
    await inspector.clearQueueLimits(queue);
    expect((await inspector.getQueueInfo(queue)).limits).toBeUndefined();
    await expect(inspector.setQueueLimits(queue, { concurrency: -1 })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(inspector.setQueueLimits(queue, { burst: 3 } as never)).rejects.toThrow(
      /concurrency, rate and perKey/,
    );
    await expect(inspector.setQueueLimits(queue, { perKey: { burst: 3 } as never })).rejects.toThrow(
      /limits\.perKey\.burst|concurrency and rate/,
    );
    await expect(inspector.setQueueLimits(queue, { perKey: { rate: '5' } })).rejects.toThrow(
      /limits\.perKey\.rate must be N\/DURATION/,
    );
  });

  it('sets per-key limits and shows the keys whose tasks wait', async () => {
    const { broker, inspector, queue } = setup();
    const set = await inspector.setQueueLimits(queue, { perKey: { concurrency: 1, rate: '100/s' } });
    expect(set.perKey).toEqual({
      concurrency: 1,
      rate: { limit: 100, period: 1000 },
      parked: 0,
      parkedKeys: 0,
      keys: [],
    });
    await enqueueKeyed(broker, queue, ['acme', 'acme', 'acme', 'globex', 'globex']);
    await broker.dequeue([queue], { count: 10, leaseDuration: 60_000 });
    const info = await inspector.getQueueInfo(queue);
    expect(info.pending).toBe(3);
    expect(info.limits?.perKey).toMatchObject({
      parked: 3,
      parkedKeys: 2,
      keys: [
        { key: 'acme', parked: 2, running: 1, startedInWindow: 1 },
        { key: 'globex', parked: 1, running: 1, startedInWindow: 1 },
      ],
    });
    await inspector.setQueueLimits(queue, { perKey: null });
    expect((await inspector.getQueueInfo(queue)).limits).toBeUndefined();
  });

  it("diagnoses tasks waiting on their flow key's limits as such, naming the keys, not as stalled", async () => {
    const { broker, inspector, queue } = setup();
    await inspector.setQueueLimits(queue, { perKey: { concurrency: 2 } });
    await enqueueKeyed(broker, queue, ['acme', 'acme', 'acme', 'acme', 'globex']);
    await broker.dequeue([queue], { count: 10, leaseDuration: 60_000 });
    await publishServer(broker, queue);
    const diagnosis = await inspector.diagnose(queue, { stalledAfter: 1 });
    expect(diagnosis.findings.map((finding) => finding.code)).toEqual(['queue-at-concurrency-limit']);
    const [finding] = diagnosis.findings;
    expect(finding?.data).toMatchObject({
      queue,
      key: 'acme',
      keys: [{ key: 'acme', running: 2, parked: 2 }],
      perKeyConcurrency: 2,
      parked: 2,
    });
    expect(finding?.evidence.join('\n')).toContain(
      'Flow key "acme": 2 running of 2 allowed per key, 2 waiting',
    );
    expect(finding?.actions).toEqual([
      { kind: 'change-queue-limits', queue, limit: 'concurrency', perKey: true },
      { kind: 'clear-queue-limits', queue },
    ]);

    const other = setup();
    await other.inspector.setQueueLimits(queue, { perKey: { rate: '1/1m' } });
    await enqueueKeyed(other.broker, queue, ['initech', 'initech']);
    await other.broker.dequeue([queue], { count: 10, leaseDuration: 60_000 });
    await publishServer(other.broker, queue);
    const rated = await other.inspector.diagnose(queue, { stalledAfter: 1 });
    expect(rated.findings.map((each) => each.code)).toEqual(['queue-rate-limited']);
    expect(rated.findings[0]?.data).toMatchObject({
      key: 'initech',
      perKeyRate: { limit: 1, period: 60_000 },
    });
    expect(rated.findings[0]?.actions[0]).toEqual({
      kind: 'change-queue-limits',
      queue,
      limit: 'rate',
      perKey: true,
    });
  });

  it('refuses limits on a broker without flow control, saying which broker has it', async () => {
    const { broker } = setup();
    // The QueueAdmin role alone, without the flow-control methods.
    const adminOnly = new Proxy(broker, {
      get: (target, property) =>
        typeof property === 'string' && /flow/i.test(property)
          ? undefined
          : (Reflect.get(target, property) as unknown),
    }) as QueueAdmin;
    await expect(
      new Inspector({ broker: adminOnly }).setQueueLimits('q', { concurrency: 1 }),
    ).rejects.toThrow(BrokerError);
  });

  it('diagnoses a backlog held by the concurrency limit as such, not as stalled', async () => {
    const { broker, inspector, queue } = setup();
    await inspector.setQueueLimits(queue, { concurrency: 2 });
    await enqueue(broker, queue, 5);
    await broker.dequeue([queue], { count: 10, leaseDuration: 60_000 });
    await publishServer(broker, queue);
    const diagnosis = await inspector.diagnose(queue, { stalledAfter: 1 });
    const codes = diagnosis.findings.map((finding) => finding.code);
    expect(codes).toContain('queue-at-concurrency-limit');
    expect(codes).not.toContain('backlog-stalled');
    const finding = diagnosis.findings.find((each) => each.code === 'queue-at-concurrency-limit');
    expect(finding?.data).toMatchObject({ concurrency: 2, running: 2, pending: 3 });
    expect(finding?.actions).toEqual([
      { kind: 'change-queue-limits', queue, limit: 'concurrency' },
      { kind: 'clear-queue-limits', queue },
    ]);
  });

  it('diagnoses a backlog held by the rate limit, or by a handler pause, as rate limited', async () => {
    const { broker, inspector, queue } = setup();
    await inspector.setQueueLimits(queue, { rate: '2/1m' });
    await enqueue(broker, queue, 4);
    await broker.dequeue([queue], { count: 10, leaseDuration: 60_000 });
    await publishServer(broker, queue);
    const limited = await inspector.diagnose(queue, { stalledAfter: 1 });
    expect(limited.findings.map((finding) => finding.code)).toEqual(['queue-rate-limited']);
    expect(limited.findings[0]?.evidence.join('\n')).toContain('Rate limit 2/1m: 2 started');

    await inspector.clearQueueLimits(queue);
    await broker.pauseFlow(queue, 60_000);
    const paused = await inspector.diagnose(queue, { stalledAfter: 1 });
    expect(paused.findings.map((finding) => finding.code)).toEqual(['queue-rate-limited']);
    expect(paused.findings[0]?.actions).toEqual([
      { kind: 'none', reason: 'pause-ends-on-its-own' },
      { kind: 'clear-queue-limits', queue },
    ]);
  });

  it('warns that Go Asynq servers serving a limited queue do not obey its limits', async () => {
    const { broker, inspector, queue } = setup();
    await inspector.setQueueLimits(queue, { concurrency: 5 });
    await enqueue(broker, queue, 1);
    await publishServer(broker, queue, true);
    const diagnosis = await inspector.diagnose(queue);
    const finding = diagnosis.findings.find((each) => each.code === 'flow-limits-ignored');
    expect(finding).toMatchObject({ severity: 'warning', queue });
    expect(finding?.actions).toEqual([
      { kind: 'serve-with-q-servers-only', queue, servers: [expect.any(String)] },
    ]);
    expect(finding?.evidence.join('\n')).toMatch(/Go Asynq server/);
    await inspector.clearQueueLimits(queue);
    const cleared = await inspector.diagnose(queue);
    expect(cleared.findings.map((each) => each.code)).not.toContain('flow-limits-ignored');
  });

  it('still reports a stalled backlog when the limits do not hold it back', async () => {
    const { broker, inspector, queue } = setup();
    await inspector.setQueueLimits(queue, { concurrency: 50 });
    await enqueue(broker, queue, 3);
    await publishServer(broker, queue);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const diagnosis = await inspector.diagnose(queue, { stalledAfter: 1 });
    expect(diagnosis.findings.map((finding) => finding.code)).toEqual(['backlog-stalled']);
  });
});
