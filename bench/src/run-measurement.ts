/** Runs one measurement against one system and turns what it timed into metrics. */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import type { BenchSystem } from './bench-system';
import { BullmqSystem } from './bullmq-system';
import type { MeasurementRequest, MeasurementResult, SystemName } from './measurement';
import { QSystem } from './q-system';
import { recordRedisActivity, usedMemory } from './redis-activity';
import { RedisFloorSystem } from './redis-floor-system';
import { percentile } from './statistics';

export function createSystem(name: SystemName, url: string): BenchSystem {
  if (name === 'q') return new QSystem(url);
  if (name === 'bullmq') return new BullmqSystem(url);
  return new RedisFloorSystem(url);
}

/** Pickup samples taken first and left out: connections warming up, code not yet optimised. */
export function pickupWarmupSamples(samples: number): number {
  return Math.min(50, Math.ceil(samples / 10));
}

/** Brackets the timed part of a measurement (to profile only that). */
export interface TimedPartHooks {
  start(): Promise<void>;
  stop(): Promise<void>;
}

const noHooks: TimedPartHooks = { start: () => Promise.resolve(), stop: () => Promise.resolve() };

export async function runMeasurement(
  systemName: SystemName,
  url: string,
  request: MeasurementRequest,
  hooks: TimedPartHooks = noHooks,
): Promise<MeasurementResult> {
  const system = createSystem(systemName, url);
  const admin = new Redis(url);
  try {
    return await measure(system, admin, request, hooks);
  } finally {
    await system.close();
    await admin.quit();
  }
}

async function measure(
  system: BenchSystem,
  admin: Redis,
  request: MeasurementRequest,
  hooks: TimedPartHooks,
): Promise<MeasurementResult> {
  switch (request.kind) {
    case 'enqueue-each':
    case 'enqueue-bulk': {
      const recording = await recordRedisActivity(admin);
      await hooks.start();
      const cpuBefore = process.cpuUsage();
      const startedAt = performance.now();
      if (request.kind === 'enqueue-each') {
        await system.enqueueEach('default', request.count, request.inFlight);
      } else {
        await system.enqueueBulk('default', request.count, request.batchSize);
      }
      const durationMs = performance.now() - startedAt;
      const cpu = process.cpuUsage(cpuBefore);
      await hooks.stop();
      const redis = await recording.finish(request.count);
      return {
        metrics: {
          tasksPerSecond: (request.count / durationMs) * 1000,
          durationMs,
          nodeCpuUsecPerTask: (cpu.user + cpu.system) / request.count,
          redisCpuUsecPerTask: redis.cpuUsecPerTask,
        },
        redis,
      };
    }
    case 'drain': {
      const names = Object.keys(request.queues);
      const total = names.length * request.perQueue;
      await system.fill(names, request.perQueue);
      const recording = await recordRedisActivity(admin);
      await hooks.start();
      const cpuBefore = process.cpuUsage();
      const loopBefore = performance.eventLoopUtilization();
      const timing = await system.drain(request);
      const loop = performance.eventLoopUtilization(loopBefore);
      const cpu = process.cpuUsage(cpuBefore);
      await hooks.stop();
      const redis = await recording.finish(total);
      return {
        metrics: {
          tasksPerSecond: (total / timing.durationMs) * 1000,
          durationMs: timing.durationMs,
          nodeCpuUsecPerTask: (cpu.user + cpu.system) / total,
          redisCpuUsecPerTask: redis.cpuUsecPerTask,
          // Share of the time the worker's event loop was busy: below 1, it was waiting for Redis.
          eventLoopUtilization: loop.utilization,
        },
        details: { queueFinishedMs: timing.queueFinishedMs },
        redis,
      };
    }
    case 'pickup': {
      const warmup = pickupWarmupSamples(request.samples);
      const recording = await recordRedisActivity(admin);
      await hooks.start();
      const all = await system.pickup({ ...request, samples: request.samples + warmup });
      await hooks.stop();
      const latencies = all.slice(warmup);
      return {
        metrics: {
          p50Ms: percentile(latencies, 50),
          p99Ms: percentile(latencies, 99),
          meanMs: latencies.reduce((sum, value) => sum + value, 0) / latencies.length,
          maxMs: Math.max(...latencies),
        },
        details: { samples: latencies.length, warmupSamples: warmup },
        redis: await recording.finish(all.length),
      };
    }
    case 'memory': {
      // Open the system's connections first: their buffers are not the tasks' memory.
      await system.fill(['default'], 0);
      const before = await usedMemory(admin);
      await hooks.start();
      await system.fill(['default'], request.count, request.payloadBytes);
      await hooks.stop();
      const after = await usedMemory(admin);
      return {
        metrics: { bytesPerTask: (after - before) / request.count },
        details: { usedMemoryBefore: before, usedMemoryAfter: after, keys: await admin.dbsize() },
      };
    }
  }
}
