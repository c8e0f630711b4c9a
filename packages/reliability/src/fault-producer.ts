/**
 * A producer process of the battery: enqueues `count` tasks at `rate` per second through a real `Client`,
 * spread over `queues`, and adds each acknowledged enqueue to the ledger. A failed enqueue is counted
 * and logged, never retried (so "acknowledged" means exactly what the client promised). Prints a final
 * JSON line `{ event: 'producer-done', acked, failed }`. Configured by `Q_FAULT_PRODUCER`.
 */
import { writeSync } from 'node:fs';
import { Client } from '@q/client';
import { Ledger } from './ledger';
import { createBroker, jsonLineLogger, type FaultPayload, type ProducerConfig } from './process-config';

const config = JSON.parse(process.env.Q_FAULT_PRODUCER ?? '{}') as ProducerConfig;
const logger = jsonLineLogger((line) => writeSync(1, line), { producer: true, pid: process.pid });
const ledger = new Ledger(config.ledgerUrl, config.ledgerPrefix);
const broker = createBroker(config.target, logger);
const client = new Client({ broker });

let acked = 0;
let failed = 0;
const inFlight = new Set<Promise<void>>();
const errors = new Map<string, number>();
const started = Date.now();
const [minMs, maxMs] = config.workMs;

for (let n = 0; n < config.count; n += 1) {
  const due = started + (n * 1000) / config.rate;
  const wait = due - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const payload: FaultPayload = {
    n,
    ms: minMs + Math.floor(Math.random() * (maxMs - minMs + 1)),
    enqueuedAt: Date.now(),
  };
  if (config.canary) payload.note = config.canary;
  const queue = config.queues[n % config.queues.length]!;
  const enqueue = client
    .enqueue('fault', payload, {
      queue,
      maxRetry: 25,
      ...(config.retention === null ? {} : { retention: config.retention ?? '1h' }),
    })
    .then(
      (info) => {
        acked += 1;
        return ledger.recordAck(queue, info.id);
      },
      async (error: unknown) => {
        failed += 1;
        const message = error instanceof Error ? error.message : String(error);
        errors.set(message, (errors.get(message) ?? 0) + 1);
        if (errors.get(message) === 1) logger.warn({ error: message }, 'enqueue failed');
        await ledger.recordEnqueueFailure();
      },
    )
    .finally(() => inFlight.delete(enqueue));
  inFlight.add(enqueue);
  // Bound what waits on an unreachable Redis, as a real producer's memory would.
  if (inFlight.size >= 2000) await Promise.race(inFlight);
}
await Promise.all(inFlight);
logger.info(
  { event: 'producer-done', acked, failed, errors: Object.fromEntries(errors), ms: Date.now() - started },
  'producer done',
);
await broker.close();
await ledger.close();
process.exit(0);
