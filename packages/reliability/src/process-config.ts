/**
 * What a scenario tells its worker and producer processes (as JSON in an environment variable), and how
 * they open a broker from it.
 */
import { createRedisBroker, type RedisBroker, type RedisBrokerOptions } from '@q/broker-redis';
import type { Logger } from '@q/core';

/** How to reach Redis, in a form that survives JSON. */
export interface BrokerTarget {
  url?: string;
  sentinel?: { sentinels: { host: string; port: number }[]; name: string };
  cluster?: { nodes: { host: string; port: number }[] };
  username?: string;
  password?: string;
  /** PEM of the CA that signed the server's certificate (TLS). */
  tlsCa?: string;
  prefix: string;
}

export interface WorkerConfig {
  name: string;
  target: BrokerTarget;
  ledgerUrl: string;
  ledgerPrefix: string;
  queues: Record<string, number>;
  concurrency: number;
  leaseDuration: number;
  shutdownTimeout: number;
  /** Log the process's RSS every this many ms (L1). */
  memoryReportInterval?: number;
  /** Also record when each handler run ends (flow-control scenarios). */
  recordEnds?: boolean;
}

export interface ProducerConfig {
  target: BrokerTarget;
  ledgerUrl: string;
  ledgerPrefix: string;
  queues: string[];
  /** How many tasks to enqueue in all. */
  count: number;
  /** Tasks per second. */
  rate: number;
  /** Handler time, drawn from [min, max] ms. */
  workMs: [number, number];
  /** A string put in every payload, to check that payloads stay out of logs (X1). */
  canary?: string;
  /** Keep completed tasks this long (so that the audit sees them); `null`: delete them at once. */
  retention?: string | null;
}

/** The handler's input. */
export interface FaultPayload {
  n: number;
  ms: number;
  enqueuedAt: number;
  note?: string;
}

export function createBroker(target: BrokerTarget, logger: Logger): RedisBroker {
  const options: RedisBrokerOptions = { prefix: target.prefix, logger };
  if (target.url) options.url = target.url;
  if (target.sentinel) options.sentinel = target.sentinel;
  if (target.cluster) options.cluster = { nodes: target.cluster.nodes };
  if (target.username !== undefined) options.username = target.username;
  if (target.password !== undefined) options.password = target.password;
  if (target.tlsCa) options.tls = { ca: target.tlsCa };
  return createRedisBroker(options);
}

/** A logger writing JSON lines to stdout, synchronously so that nothing is lost when a process dies. */
export function jsonLineLogger(write: (line: string) => void, context: Record<string, unknown>): Logger {
  const log =
    (level: string) =>
    (first: Record<string, unknown> | string, second?: string): void => {
      const fields = typeof first === 'string' ? {} : first;
      const msg = typeof first === 'string' ? first : (second ?? '');
      write(
        JSON.stringify({ level, time: Date.now(), ...context, ...fields, msg }, (_key, value: unknown) =>
          value instanceof Error ? value.message : value,
        ) + '\n',
      );
    };
  return { debug: () => undefined, info: log('info'), warn: log('warn'), error: log('error') };
}
