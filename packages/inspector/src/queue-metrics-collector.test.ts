import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { addTasks, createScenario, now, publishServer } from '../test/memory-scenario';
import { Inspector } from './inspector';
import { createQueueMetricsCollector } from './queue-metrics-collector';

describe('createQueueMetricsCollector', () => {
  it("exposes Asynq's metric names and @q's server states from one reading per scrape", async () => {
    const { broker, clock } = createScenario();
    await addTasks(broker, 'default', { retry: 1 });
    await addTasks(broker, 'default', { archived: 1 });
    // Eight more tasks processed, ten in all, two of them failed.
    await addTasks(broker, 'default', { completed: 8 });
    await broker.deleteAllTasks('default', 'archived');
    await broker.deleteAllTasks('default', 'completed');
    await addTasks(broker, 'default', { pending: 3 });
    await broker.pauseQueue('default');
    await clock.advance(1500);
    await publishServer(broker, {
      serverId: 's1',
      lifecycle: {
        state: 'quiet',
        stateSince: now,
        lastSignal: 'SIGTSTP',
        lastSignalAt: now,
        overdueTaskIds: ['x'],
      },
    });
    let reads = 0;
    const counted = Object.assign(Object.create(broker) as typeof broker, {
      listQueues: () => {
        reads += 1;
        return broker.listQueues();
      },
    });
    const registry = new Registry();
    const inspector = new Inspector({ broker: counted, now: clock.now });
    const collector = createQueueMetricsCollector({ inspector, registry });
    const text = await registry.metrics();
    expect(reads).toBe(1);
    const { memoryUsage } = await broker.queueStats('default', clock.now());
    expect(memoryUsage).toBeGreaterThan(0);
    expect(text).toContain('asynq_tasks_enqueued_total{queue="default",state="pending"} 3');
    expect(text).toContain('asynq_tasks_enqueued_total{queue="default",state="retry"} 1');
    expect(text).toContain('asynq_queue_size{queue="default"} 4');
    expect(text).toContain('asynq_queue_latency_seconds{queue="default"} 1.5');
    expect(text).toContain(`asynq_queue_memory_usage_approx_bytes{queue="default"} ${memoryUsage}`);
    expect(text).toContain('# TYPE asynq_tasks_processed_total counter');
    expect(text).toContain('asynq_tasks_processed_total{queue="default"} 10');
    expect(text).toContain('asynq_tasks_failed_total{queue="default"} 2');
    expect(text).toContain('asynq_queue_paused_total{queue="default"} 1');
    expect(text).toContain('q_servers{state="quiet"} 1');
    expect(text).toContain(
      'q_server_info{server_id="s1",host="worker-1",pid="100",state="quiet",status="active"} 1',
    );
    expect(text).toContain('q_server_overdue_tasks{server_id="s1",host="worker-1",pid="100"} 1');
    expect(text).toContain('q_scrape_success 1');
    collector.unregister();
    expect(await registry.metrics()).toBe('\n');
  });

  it('keeps answering, with q_scrape_success 0, when the store cannot be read', async () => {
    const { broker: reachable } = createScenario();
    const broker = Object.assign(Object.create(reachable) as typeof reachable, {
      listQueues: () => Promise.reject(new Error('connection refused')),
    });
    const warnings: unknown[] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      error: () => {},
      warn: (...args: unknown[]) => warnings.push(args),
    };
    const registry = new Registry();
    createQueueMetricsCollector({ inspector: new Inspector({ broker }), registry, logger });
    const text = await registry.metrics();
    expect(text).toContain('q_scrape_success 0');
    expect(text).not.toContain('asynq_queue_size{');
    expect(warnings).toHaveLength(1);
  });
});
