/**
 * One trace across two processes: a child process enqueues a task inside a request span; this process
 * runs the handler, whose span must carry the same trace id and have the child's enqueue span as parent.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ServeMux } from '@q/server';
import { describe, expect, inject, it } from 'vitest';
import { createHandlerTelemetry } from '../src/index';
import {
  createQueueHarness,
  createTelemetryHarness,
  queueName,
  spansNamed,
  waitFor,
} from './telemetry-harness';

const packageDirectory = fileURLToPath(new URL('..', import.meta.url));

/** Runs the producer fixture to its end and returns what it printed. */
function runProducer(args: readonly string[]): Promise<string> {
  const script = fileURLToPath(new URL('./fixtures/enqueue-traced.ts', import.meta.url));
  const child = spawn(process.execPath, ['--conditions=@q/source', '--import', 'tsx', script, ...args], {
    cwd: packageDirectory,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`the producer exited with ${code}: ${stderr}`)),
    );
  });
}

describe('a trace across processes', () => {
  it('gives the handler span the trace id of the request that enqueued the task in another process', async () => {
    const telemetry = createTelemetryHarness();
    const queues = createQueueHarness();
    const queue = queueName('orders');
    const mux = new ServeMux()
      .use(createHandlerTelemetry(telemetry.options))
      .handle('order:confirm', () => {});
    await queues.server({ queues: { [queue]: 1 } }).start(mux);

    const printed = await runProducer([inject('redisUrl'), queues.prefix, queue]);
    const producer = JSON.parse(printed.trim()) as { traceId: string; enqueueSpanId: string; taskId: string };
    expect(producer.traceId).toMatch(/^[0-9a-f]{32}$/);

    const processed = await waitFor(
      () => spansNamed(telemetry.spans(), `process ${queue}`)[0],
      'the handler span',
    );
    expect(processed.attributes['messaging.message.id']).toBe(producer.taskId);
    expect(processed.spanContext().traceId).toBe(producer.traceId);
    expect(processed.parentSpanContext).toMatchObject({
      traceId: producer.traceId,
      spanId: producer.enqueueSpanId,
      isRemote: true,
    });
  });
});
