import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FakeQueueAdmin, now, queueStats, serverSnapshot } from '../test/fake-queue-admin';
import { Inspector } from './inspector';
import { createQueueMetricsCollector } from './queue-metrics-collector';

describe('createQueueMetricsCollector', () => {
  it("exposes Asynq's metric names and @q's server states from one reading per scrape", async () => {
    const broker = new FakeQueueAdmin().addQueue(
      queueStats('default', {
        pending: 3,
        retry: 1,
        latency: 1500,
        memoryUsage: 2048,
        processedTotal: 10,
        failedTotal: 2,
        paused: true,
      }),
    );
    broker.servers.push(
      serverSnapshot({
        serverId: 's1',
        lifecycle: {
          state: 'quiet',
          stateSince: now,
          lastSignal: 'SIGTSTP',
          lastSignalAt: now,
          overdueTaskIds: ['x'],
        },
      }),
    );
    let reads = 0;
    const original = broker.listQueues;
    broker.listQueues = () => {
      reads += 1;
      return original();
    };
    const registry = new Registry();
    const collector = createQueueMetricsCollector({ inspector: new Inspector({ broker }), registry });
    const text = await registry.metrics();
    expect(reads).toBe(1);
    expect(text).toContain('asynq_tasks_enqueued_total{queue="default",state="pending"} 3');
    expect(text).toContain('asynq_tasks_enqueued_total{queue="default",state="retry"} 1');
    expect(text).toContain('asynq_queue_size{queue="default"} 4');
    expect(text).toContain('asynq_queue_latency_seconds{queue="default"} 1.5');
    expect(text).toContain('asynq_queue_memory_usage_approx_bytes{queue="default"} 2048');
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
    const broker = new FakeQueueAdmin();
    broker.listQueues = () => Promise.reject(new Error('connection refused'));
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
