import type { ManualClock, MemoryBroker } from '@q/broker-memory';
import type { QueueAdmin, ServerSnapshot, StoreInfo } from '@q/core';
import { describe, expect, it } from 'vitest';
import { addTasks, createScenario, now, publishServer } from '../test/memory-scenario';
import { taskMessage } from '../test/populate-queue';
import type { Diagnosis } from './diagnosis';
import { Inspector } from './inspector';

const codes = (diagnosis: Diagnosis): string[] => diagnosis.findings.map((finding) => finding.code);
const running = { state: 'running', stateSince: now - 60_000, lastFetchAt: now - 500, overdueTaskIds: [] };

/** The memory broker on a clock standing at `now`; each test builds its situation through the roles. */
function memoryBroker(): MemoryBroker<ManualClock> {
  return createScenario().broker;
}

/** Reads what a store other than the memory broker would report (Redis' eviction policy, say). */
function withOverrides(broker: MemoryBroker<ManualClock>, overrides: Partial<QueueAdmin>): QueueAdmin {
  return Object.assign(Object.create(broker) as MemoryBroker<ManualClock>, overrides);
}

/** Commands of one UI (the q command, a shell, code) and words of one broker, which findings leave to UIs. */
const notNeutral = /\bq (?:task|queue)\b|\bkill -|\bmux\.|new Server|\bRedis\b|maxmemory|CONFIG SET|SIGCONT/;

function inspectorFor(broker: QueueAdmin & { clock?: MemoryBroker['clock'] }): Inspector {
  const clock = (broker as MemoryBroker).clock;
  let offset = 0;
  // Every reading advances the time a little, as a real clock would.
  const inspector = new Inspector({ broker, now: () => clock.now() + (offset += 1) });
  const diagnose = inspector.diagnose.bind(inspector);
  // Every diagnosis of this file is also checked for words a broker-neutral finding must not hold.
  inspector.diagnose = async (...input) => {
    const diagnosis = await diagnose(...input);
    for (const finding of diagnosis.findings) {
      expect([finding.summary, ...finding.evidence].join('\n')).not.toMatch(notNeutral);
    }
    return diagnosis;
  };
  return inspector;
}

describe('diagnose', () => {
  it('is healthy when a running server serves a queue that moves', async () => {
    const broker = memoryBroker();
    await addTasks(broker, 'default', { pending: 3 });
    await broker.clock.advance(200);
    await publishServer(broker, { serverId: 's1', lifecycle: running });
    const diagnosis = await inspectorFor(broker).diagnose();
    expect(diagnosis.findings).toEqual([]);
    expect(diagnosis.healthy).toBe(true);
    expect(diagnosis.queues).toEqual(['default']);
  });

  it('names a queue no server serves, and a likely typo', async () => {
    const broker = memoryBroker();
    await addTasks(broker, 'reports', { pending: 4 });
    await addTasks(broker, 'email', { pending: 2 });
    await publishServer(broker, { serverId: 's1', queues: { emails: 1 } });
    const diagnosis = await inspectorFor(broker).diagnose();
    const mismatch = diagnosis.findings.find((finding) => finding.code === 'queue-name-mismatch');
    expect(mismatch).toMatchObject({ queue: 'email', severity: 'error', data: { similar: ['emails'] } });
    expect(mismatch?.summary).toMatch(/typo/);
    const unserved = diagnosis.findings.find((finding) => finding.code === 'queue-unserved');
    expect(unserved).toMatchObject({ queue: 'reports', severity: 'error' });
    expect(unserved?.actions).toEqual([{ kind: 'start-server', queue: 'reports' }]);
    expect(mismatch?.actions).toEqual([{ kind: 'use-one-queue-name', queue: 'email', similar: 'emails' }]);
    expect(diagnosis.healthy).toBe(false);
  });

  it('reports a missing queue with the closest names', async () => {
    const broker = memoryBroker();
    await addTasks(broker, 'critical', { pending: 1 });
    await publishServer(broker, { serverId: 's1', queues: { critical: 1 } });
    const diagnosis = await inspectorFor(broker).diagnose('critcal');
    expect(diagnosis.findings[0]).toMatchObject({ code: 'queue-not-found', data: { similar: ['critical'] } });
    expect(diagnosis.findings[0]?.actions).toEqual([
      { kind: 'use-one-queue-name', queue: 'critcal', similar: 'critical' },
    ]);
  });

  it('points at the store address when the store holds no queue at all', async () => {
    const diagnosis = await inspectorFor(memoryBroker()).diagnose('emails');
    expect(diagnosis.findings[0]?.actions).toEqual([
      { kind: 'check-queue-name', queue: 'emails' },
      { kind: 'check-store-address' },
    ]);
  });

  it('says which signal made a server quiet and since when, and that its queue is not fetched', async () => {
    const broker = memoryBroker();
    await addTasks(broker, 'default', { pending: 1 });
    await publishServer(broker, {
      serverId: 's1',
      status: 'stopped',
      lifecycle: {
        state: 'quiet',
        stateSince: now - 120_000,
        lastSignal: 'SIGTSTP',
        lastSignalAt: now - 120_000,
        overdueTaskIds: [],
      },
    });
    const diagnosis = await inspectorFor(broker).diagnose('default');
    expect(codes(diagnosis)).toEqual(['queue-unserved', 'server-not-running']);
    const quiet = diagnosis.findings[1]!;
    expect(quiet.evidence.join('\n')).toMatch(/Last signal: SIGTSTP at 2026-11-26T11:58:00.000Z \(2m ago\)/);
    const signal = { pid: 100, host: 'worker-1', server: quiet.server };
    expect(quiet.actions).toEqual([
      { kind: 'send-signal', signal: 'SIGCONT', ...signal },
      { kind: 'send-signal', signal: 'SIGTERM', ...signal },
    ]);
    expect(diagnosis.findings[0]!.actions).toEqual([
      { kind: 'send-signal', signal: 'SIGCONT', ...signal },
      { kind: 'start-server', queue: 'default' },
    ]);
  });

  it('calls a long shutdown stuck, and reads Go servers by their status', async () => {
    const broker = memoryBroker();
    await addTasks(broker, 'default', {});
    await publishServer(broker, {
      serverId: 's1',
      status: 'closed',
      lifecycle: {
        state: 'draining',
        stateSince: now - 600_000,
        lastSignal: 'SIGTERM',
        lastSignalAt: now - 600_000,
        overdueTaskIds: [],
      },
    });
    await publishServer(broker, { serverId: 'go', host: 'go-host', status: 'stopped' });
    const diagnosis = await inspectorFor(broker).diagnose();
    const [first, second] = diagnosis.findings;
    expect(first?.summary).toMatch(/draining for 10m: its shutdown is stuck/);
    expect(first?.actions).toMatchObject([
      { kind: 'send-signal', signal: 'SIGKILL', pid: 100 },
      { kind: 'start-server', queue: 'default' },
    ]);
    expect(second?.evidence).toContain('A Go Asynq server: it publishes no signal details.');
    expect(second?.summary).toMatch(/cannot resume/);
    expect(second?.actions).toMatchObject([
      { kind: 'send-signal', signal: 'SIGTERM', host: 'go-host' },
      { kind: 'start-server', queue: 'default' },
    ]);
  });

  it('names a paused queue', async () => {
    const broker = memoryBroker();
    await addTasks(broker, 'default', { pending: 5 });
    await broker.pauseQueue('default');
    await publishServer(broker, { serverId: 's1', lifecycle: running });
    const diagnosis = await inspectorFor(broker).diagnose();
    expect(codes(diagnosis)).toEqual(['queue-paused']);
    expect(diagnosis.findings[0]?.actions).toEqual([{ kind: 'resume-queue', queue: 'default' }]);
  });

  it('names the overdue and long-running tasks that hold every slot', async () => {
    const broker = memoryBroker();
    await addTasks(broker, 'default', { pending: 7, active: 2 }, { ids: ['stuck-1', 'long-1'] });
    await publishServer(
      broker,
      { serverId: 's1', concurrency: 2, lifecycle: { ...running, overdueTaskIds: ['stuck-1'] } },
      [
        { taskId: 'stuck-1', startedAt: now - 900_000, deadline: now - 300_000 },
        { taskId: 'long-1', startedAt: now - 400_000, deadline: now + 600_000 },
      ],
    );
    const diagnosis = await inspectorFor(broker).diagnose();
    expect(codes(diagnosis)).toEqual(['workers-saturated']);
    const finding = diagnosis.findings[0]!;
    expect(finding.severity).toBe('error');
    expect(finding.data.stuckTaskIds).toEqual(['stuck-1', 'long-1']);
    expect(finding.evidence.join('\n')).toMatch(
      /stuck-1 \(email:send, queue default\): running for 15m, 5m past its deadline/,
    );
    expect(finding.actions).toEqual([
      { kind: 'cancel-tasks', taskIds: ['stuck-1', 'long-1'] },
      { kind: 'honour-abort-signal', taskIds: ['stuck-1', 'long-1'] },
      { kind: 'add-capacity', queue: 'default' },
    ]);
  });

  it('reports overdue tasks of a server that still has free slots', async () => {
    const broker = memoryBroker();
    await addTasks(broker, 'default', { active: 1 }, { ids: ['late'] });
    await publishServer(broker, { serverId: 's1', lifecycle: running }, [
      { taskId: 'late', deadline: now - 10_000 },
    ]);
    expect(codes(await inspectorFor(broker).diagnose())).toEqual(['tasks-overdue']);
  });

  it('finds tasks failing because no handler is registered', async () => {
    const broker = memoryBroker();
    await addTasks(
      broker,
      'default',
      { retry: 1, archived: 1 },
      { type: 'pdf:render', errorMessage: 'handler not found for task "pdf:render"' },
    );
    await publishServer(broker, { serverId: 's1', lifecycle: running });
    const diagnosis = await inspectorFor(broker).diagnose();
    const finding = diagnosis.findings.find((candidate) => candidate.code === 'handler-not-found');
    expect(finding?.summary).toMatch(/"pdf:render"/);
    expect(finding?.evidence[0]).toMatch(/pdf:render: 2 task\(s\) in retry and archived/);
    expect(finding?.actions).toEqual([
      { kind: 'register-handler', queue: 'default', taskTypes: ['pdf:render'] },
      { kind: 'run-all-tasks', queue: 'default', state: 'archived' },
      { kind: 'run-all-tasks', queue: 'default', state: 'retry' },
    ]);
  });

  it('sees a backlog that waits while a running server lists the queue, and a stuck fetch loop', async () => {
    const broker = memoryBroker();
    await addTasks(broker, 'default', { pending: 40 });
    await broker.clock.advance(300_000);
    const later = broker.clock.now();
    await publishServer(broker, {
      serverId: 's1',
      lifecycle: { ...running, stateSince: later - 600_000, lastFetchAt: later - 240_000 },
    });
    const diagnosis = await inspectorFor(broker).diagnose();
    expect(codes(diagnosis)).toEqual(['backlog-stalled']);
    expect(diagnosis.findings[0]?.evidence.join('\n')).toMatch(/fetch loop last ran .* it looks stuck/);
    expect(diagnosis.findings[0]?.actions).toEqual([
      { kind: 'check-server-logs', servers: diagnosis.findings[0]!.data.servers },
    ]);
  });

  it('compares two readings when asked to sample', async () => {
    const memory = memoryBroker();
    await addTasks(memory, 'default', { completed: 5 });
    await addTasks(memory, 'default', { pending: 10 });
    await publishServer(memory, { serverId: 's1', lifecycle: running });
    let readings = 0;
    // Four more tasks arrive between the two readings, and none is taken.
    const broker = withOverrides(memory, {
      queueStats: async (queue, time) => {
        readings += 1;
        const stats = await memory.queueStats(queue, time);
        if (readings === 1) await addTasks(memory, 'default', { pending: 4 });
        return stats;
      },
    });
    const diagnosis = await inspectorFor(broker).diagnose(undefined, { sampleInterval: 20 });
    expect(codes(diagnosis)).toEqual(['backlog-stalled']);
    expect(diagnosis.findings[0]?.evidence[0]).toMatch(/from 10 to 14 pending and no task was processed/);
  });

  it('explains that tasks wait in the future', async () => {
    const broker = memoryBroker();
    await addTasks(broker, 'default', { scheduled: 1 }, { processAt: now + 3_600_000 });
    await addTasks(broker, 'default', { retry: 1 }, { processAt: now + 600_000 });
    await publishServer(broker, { serverId: 's1', lifecycle: running });
    const diagnosis = await inspectorFor(broker).diagnose();
    expect(diagnosis.findings).toMatchObject([{ code: 'tasks-scheduled-later', severity: 'info' }]);
    expect(diagnosis.findings[0]?.summary).toMatch(/the next in 10m/);
    expect(diagnosis.findings[0]?.actions).toEqual([
      { kind: 'none', reason: 'as-scheduled' },
      { kind: 'run-all-tasks', queue: 'default', state: 'retry' },
    ]);
    expect(diagnosis.healthy).toBe(true);
  });

  it('warns about an evicting store policy', async () => {
    const memory = memoryBroker();
    // A store that evicts and is nearly full, as Redis reports one.
    const broker = withOverrides(memory, {
      storeInfo: async (): Promise<StoreInfo> => ({
        ...(await memory.storeInfo()),
        evictionPolicy: 'allkeys-lru',
        maxMemory: 1000,
        usedMemory: 950,
      }),
    });
    const diagnosis = await inspectorFor(broker).diagnose();
    expect(codes(diagnosis)).toEqual(['store-evicts-keys', 'store-memory-high']);
    expect(diagnosis.findings[0]?.actions).toEqual([{ kind: 'stop-store-eviction', policy: 'allkeys-lru' }]);
    expect(diagnosis.findings[0]?.evidence[0]).toBe('Eviction policy: allkeys-lru');
  });

  it('measures each server clock against the store', async () => {
    const memory = memoryBroker();
    await publishServer(memory, { serverId: 'fast', host: 'fast-host', lifecycle: running });
    await publishServer(memory, { serverId: 'ok', host: 'ok-host', lifecycle: running });
    await publishServer(memory, { serverId: 'go', host: 'go-host' });
    // The memory broker has one clock; a server whose own clock runs ahead publishes a later expiry
    // than the store counts (the fast one by 45 s, the Go one, which gives no remaining time, by 20 s).
    const skew: Record<string, Partial<ServerSnapshot>> = {
      fast: { expiresAt: now + 45_000 + 8000 },
      go: { expiresAt: now + 10_000 + 20_000, remainingTtl: undefined },
    };
    const broker = withOverrides(memory, {
      listServers: async () =>
        (await memory.listServers()).map((snapshot) => {
          const shifted = { ...snapshot, ...skew[snapshot.server.serverId] };
          if (shifted.remainingTtl === undefined) delete shifted.remainingTtl;
          return shifted;
        }),
    });
    const diagnosis = await inspectorFor(broker).diagnose();
    expect(codes(diagnosis)).toEqual(['clock-skew']);
    const evidence = diagnosis.findings[0]!.evidence;
    expect(evidence).toHaveLength(2);
    expect(evidence[0]).toMatch(/server fast-host:100: 45s ahead of the store/);
    expect(evidence[1]).toMatch(/server go-host:100: at least 20s ahead of the store/);
    expect(diagnosis.findings[0]!.severity).toBe('error');
    expect(diagnosis.findings[0]!.actions).toEqual([
      { kind: 'synchronise-clocks', hosts: ['fast-host', 'go-host'], leaseMs: 3000 },
    ]);
  });

  it('names active tasks whose worker died, and a server that cannot reach the store', async () => {
    const broker = memoryBroker();
    await broker.enqueue({ message: taskMessage('default', 'lost') });
    await broker.dequeue(['default'], { count: 1, leaseDuration: 1000 });
    // Its worker died: nobody extends its lease, which ends.
    await broker.clock.advance(2000);
    const later = broker.clock.now();
    await publishServer(broker, {
      serverId: 's1',
      lifecycle: { ...running, stateSince: later - 60_000, lastFetchAt: later - 500, brokerReachable: false },
    });
    const diagnosis = await inspectorFor(broker).diagnose();
    expect(codes(diagnosis)).toEqual(['server-store-unreachable', 'tasks-orphaned']);
    expect(diagnosis.findings[1]).toMatchObject({ data: { taskIds: ['lost'] } });
    expect(diagnosis.findings[0]?.actions).toEqual([
      { kind: 'restore-store-connection', server: diagnosis.findings[0]!.server, host: 'worker-1' },
    ]);
    expect(diagnosis.findings[1]?.actions).toEqual([{ kind: 'none', reason: 'recovers-on-its-own' }]);
  });

  it('notes the checks it could not run', async () => {
    const broker = withOverrides(memoryBroker(), { storeInfo: undefined });
    const diagnosis = await inspectorFor(broker).diagnose();
    expect(diagnosis.skipped[0]).toMatch(/does not report store facts/);
  });
});
