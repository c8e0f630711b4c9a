/**
 * Micro-benchmark of the TaskMessage codec: @q's hand-written encoder/decoder against protobuf-es's
 * reflective `toBinary` / `fromBinary` (the codec @q used before, kept as the test oracle), on the bench's
 * task: type `email:send`, a ~60-byte JSON payload, a UUID id, queue `default`, retry 25, timeout 1800,
 * no deadline. Run from the repository root:
 *
 *   node --conditions=@q/source --import tsx bench/src/codec-bench.ts
 *
 * Prints the median of several timed rounds per codec and direction, in operations per second of CPU time
 * and CPU nanoseconds per operation (CPU time of the whole process, so not inflated when other processes
 * share the cores; the garbage collector's threads included).
 */
import { randomUUID } from 'node:crypto';
import type { TaskMessage } from '@q/core';
import { decodeTaskMessage, encodeTaskMessage } from '../../packages/broker-redis/src/task-message-codec';
import {
  decodeWithProtobufEs,
  encodeWithProtobufEs,
} from '../../packages/broker-redis/test/protobuf-es-task-message';

const messageCount = 1000;
const operationsPerRound = 200_000;
const rounds = 7;

const messages: TaskMessage[] = Array.from({ length: messageCount }, (_, i) => ({
  id: randomUUID(),
  type: 'email:send',
  payload: Buffer.from(
    JSON.stringify({ userId: 100_000 + i, email: `user-${100_000 + i}@example.com`, plan: 'pro' }),
  ),
  queue: 'default',
  maxRetry: 25,
  retried: 0,
  errorMessage: '',
  timeoutSeconds: 1800,
  deadlineUnixSeconds: 0,
  uniqueKey: '',
  lastFailedAtUnixSeconds: 0,
  retentionSeconds: 0,
  completedAtUnixSeconds: 0,
  groupKey: '',
  headers: {},
}));
// As ioredis hands them over: Buffers.
const encoded = messages.map((message) => Buffer.from(encodeWithProtobufEs(message)));

interface Case {
  name: string;
  run: (i: number) => number;
}

const cases: Case[] = [
  { name: 'encode, protobuf-es', run: (i) => encodeWithProtobufEs(messages[i % messageCount]!).length },
  { name: 'encode, @q', run: (i) => encodeTaskMessage(messages[i % messageCount]!).length },
  {
    name: 'decode, protobuf-es',
    run: (i) => decodeWithProtobufEs(encoded[i % messageCount]!).payload.length,
  },
  { name: 'decode, @q', run: (i) => decodeTaskMessage(encoded[i % messageCount]!).payload.length },
];

/**
 * CPU nanoseconds (user + system, of this process) for one round of `operationsPerRound` calls: unlike
 * wall time, not inflated when other processes share the cores.
 */
function timeRound(run: Case['run']): number {
  let sink = 0;
  const start = process.cpuUsage();
  for (let i = 0; i < operationsPerRound; i++) sink += run(i);
  const { user, system } = process.cpuUsage(start);
  if (sink === 0) throw new Error('the benchmark produced nothing');
  return (user + system) * 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const width = Math.max(...cases.map((c) => c.name.length));
process.stdout.write(
  `TaskMessage codec, ${encoded[0]!.length}-byte message, median CPU time of ${rounds} rounds of ${operationsPerRound} ops (Node ${process.version})\n`,
);
for (const { name, run } of cases) {
  timeRound(run); // warm-up: lets the JIT optimise before anything is timed
  const times = Array.from({ length: rounds }, () => timeRound(run));
  const nanosPerOp = median(times) / operationsPerRound;
  const opsPerSecond = Math.round(1e9 / nanosPerOp);
  process.stdout.write(
    `${name.padEnd(width)}  ${opsPerSecond.toLocaleString('en-US').padStart(11)} ops/s  ${nanosPerOp.toFixed(0).padStart(6)} ns/op\n`,
  );
}
