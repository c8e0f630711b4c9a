/**
 * Queue metrics read from the store, as OpenTelemetry observable instruments: the figures the Prometheus
 * collector of `@q/inspector` exports (latency, size by state, lifetime processed and failed, paused),
 * for every server of the queues, Go ones included.
 */
import type { BatchObservableResult, MeterProvider } from '@opentelemetry/api';
import { QError, silentLogger, type Logger, type QueueStats } from '@q/core';
import { assertKnownKeys } from '@q/core/internal';
import { attributes, messagingSystem, metrics } from './semantic-attributes';
import { resolveTelemetry } from './telemetry-options';

/** What the figures are read from: an `Inspector` from `@q/inspector` has both. */
export interface QueueStatsSource {
  queues(): Promise<string[]>;
  getQueueInfo(queue: string): Promise<Omit<QueueStats, 'timestamp'>>;
}

export interface ObserveQueuesOptions {
  /** Where the figures come from: `new Inspector({ broker })`. */
  inspector: QueueStatsSource;
  /** @default the global meter provider */
  meterProvider?: MeterProvider;
  /** Reports collections that could not read the store. @default silentLogger */
  logger?: Logger;
}

export interface QueueObservation {
  /** Stops reporting the queue metrics. */
  stop(): void;
}

const optionKeys = ['inspector', 'meterProvider', 'logger'] as const;
const states = ['pending', 'active', 'scheduled', 'retry', 'archived', 'completed', 'aggregating'] as const;

/** Reports the store's queue figures at every collection of the meter provider's readers. */
export function observeQueues(options: ObserveQueuesOptions): QueueObservation {
  assertKnownKeys(options, optionKeys, 'observeQueues option');
  const { inspector } = options;
  const logger = options.logger ?? silentLogger;
  const { meter } = resolveTelemetry({ meterProvider: options.meterProvider });
  const latency = meter.createObservableGauge(metrics.queueLatency, {
    description: 'How long the oldest pending task of the queue has waited.',
    unit: 's',
  });
  const size = meter.createObservableGauge(metrics.queueSize, {
    description: 'Tasks in the queue, by state.',
    unit: '{message}',
  });
  const processed = meter.createObservableCounter(metrics.queueProcessed, {
    description: 'Tasks the queue processed since it was created, failures included, by every server.',
    unit: '{message}',
  });
  const failed = meter.createObservableCounter(metrics.queueFailed, {
    description: 'Tasks of the queue that failed since it was created, by every server.',
    unit: '{message}',
  });
  const paused = meter.createObservableGauge(metrics.queuePaused, {
    description: '1 when the queue is paused.',
  });
  const observables = [latency, size, processed, failed, paused];

  const collect = async (result: BatchObservableResult): Promise<void> => {
    let infos: (Omit<QueueStats, 'timestamp'> | undefined)[];
    try {
      const names = await inspector.queues();
      infos = await Promise.all(
        names.map((name) =>
          inspector.getQueueInfo(name).catch((error: unknown) => {
            // Removed between listing and reading.
            if (QError.is(error) && error.code === 'Q_QUEUE_NOT_FOUND') return undefined;
            throw error;
          }),
        ),
      );
    } catch (error) {
      logger.warn(
        { error: error instanceof Error ? error.message : String(error) },
        'queue metrics: could not read the queues from the store',
      );
      return;
    }
    for (const info of infos) {
      if (!info) continue;
      const queue = {
        [attributes.messagingSystem]: messagingSystem,
        [attributes.destinationName]: info.queue,
      };
      result.observe(latency, info.latency / 1000, queue);
      for (const state of states)
        result.observe(size, info[state], { ...queue, [attributes.queueState]: state });
      result.observe(processed, info.processedTotal, queue);
      result.observe(failed, info.failedTotal, queue);
      result.observe(paused, info.paused ? 1 : 0, queue);
    }
  };
  meter.addBatchObservableCallback(collect, observables);
  return {
    stop() {
      meter.removeBatchObservableCallback(collect, observables);
    },
  };
}
