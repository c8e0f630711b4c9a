/** `TaskConsumer` on Redis: what a server does with tasks, leases, groups and its own published state. */
import { randomUUID } from 'node:crypto';
import {
  LeaseLostError,
  type LeaseFence,
  TaskNotFoundError,
  ValidationError,
  type AggregationCheckOptions,
  type AggregationSet,
  type DequeueOptions,
  type FlowDequeueResult,
  type FlowHold,
  type LeaseExtension,
  type LeasedTask,
  type MalformedRecord,
  type RetryOptions,
  type ServerState,
  type TaskConsumer,
  type TaskMessage,
  type WorkerState,
} from '@q/core';
import {
  aggregationTimeoutMilliseconds,
  archiveRetentionMilliseconds,
  forwardBatchSize,
  maxArchiveSize,
  maxInt64,
  statsTtlMilliseconds,
} from './asynq-constants';
import { CallCoalescer, chunksBy, type CallOutcome, type Waiter } from './call-coalescer';
import { readRecord, replacementMessage, type RecordReading } from './malformed-record';
import { PackedArgument } from './packed-argument';
import type { RedisBrokerContext } from './redis-broker-context';
import { isUnavailableError } from './redis-errors';
import { replyArray, replyBytes, replyNumber, replyText, replyTuples } from './redis-reply';
import { runScript, runScriptBuffer } from './redis-scripts';
import { encodeServerInfo, encodeWorkerInfo } from './server-state-codec';
import { decodeTaskMessage, encodeTaskMessage } from './task-message-codec';
import { toUnixNanoseconds, toUnixSeconds, toWholeSeconds } from './unix-time';

type MalformedReading = Extract<RecordReading, { ok: false }>;

/** Reads the `<reason>:<ms>` of dequeue.lua's flow triple; undefined when no limit held the queue back. */
function readFlowHold(queue: string, data: string): FlowHold | undefined {
  const separator = data.indexOf(':');
  const reason = data.slice(0, separator);
  if (reason !== 'concurrency' && reason !== 'rate' && reason !== 'paused' && reason !== 'keys') {
    return undefined;
  }
  const wait = data.slice(separator + 1);
  return wait === '' ? { queue, reason } : { queue, reason, retryAfter: Number(wait) };
}

/** The two fencing arguments every outcome script ends with: the lease token, and the expiry cutoff. */
function fenceArguments(fence: LeaseFence | undefined): [string, string | number] {
  return [fence?.token ?? '', fence?.expiredBy === undefined ? '' : toUnixSeconds(fence.expiredBy)];
}

function assertPositive(value: number, path: string): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new ValidationError(`${path} must be a positive number, got ${String(value)}.`, [
      { path, message: 'not positive' },
    ]);
  }
}

/** A finished task waiting to be acknowledged with the others that finished at the same time. */
interface DoneItem {
  message: TaskMessage;
  fence: LeaseFence | undefined;
}

/** The most acknowledgements one script call writes. */
const maxDoneBatch = 500;
/**
 * A dequeue asking for at least this many tasks carries the acknowledgements of its queue. It saves a
 * call per batch, but Redis answers the dequeue only once it wrote them, where a separate call lets it
 * answer the dequeue first: for very small batches (few slots per fetch lane) the wait costs more than
 * the call. Measured with `pnpm bench --scenario drain` in three alternating pairs: lanes of 13 tasks
 * (concurrency 50) 45k tasks/s apart, 47-48k carried, with less CPU per task in Node and Redis; lanes of
 * 5 (concurrency 10) lost while each call cost ioredis' command building (33-37k apart, 32-35k carried),
 * and won once script calls were written straight to RESP (24.2-25.3k apart, 26.0-26.2k carried, Node
 * CPU per task 40.3-41.9 -> 36.7-37.6 µs, in a slow phase of the machine).
 */
const carryAcknowledgementsFrom = 5;

/** The tasks to acknowledge as include/ack-batch.lua unpacks them: id, lease token, expiry cutoff, lock key. */
function packDone(items: Iterable<DoneItem>): Buffer {
  const packed = new PackedArgument();
  for (const { message, fence } of items) {
    const [token, expiredBy] = fenceArguments(fence);
    packed.text(message.id).text(token).text(String(expiredBy)).text(message.uniqueKey);
  }
  return packed.toBuffer();
}

/** What one queue's dequeue call returned (see `sendDequeue`). */
interface SentDequeue {
  /** The task triples, for `readRecord`. */
  triples: unknown[][];
  /** The data of the flow triple (`<reason>:<ms>`), when the queue has a flow hash. */
  flow: string | undefined;
  error: string | undefined;
  leaseExpiresAt: number;
  leaseToken: string;
}

/** Answers the acknowledgements a dequeue carried, from the codes it returned ("1" done, "0" refused). */
function answerAcks(acks: readonly Waiter<DoneItem, number>[], codes: string | undefined): void {
  if (codes === undefined || codes.length !== acks.length) {
    const error = new Error('Redis sent no acknowledgement codes with the dequeue; the tasks are retried.');
    for (const ack of acks) ack.reject(error);
    return;
  }
  acks.forEach((ack, index) => ack.resolve(codes.charCodeAt(index) === 49 ? 1 : 0));
}

/** The first byte of a hand-over message on a notify channel (a plain wake-up carries the queue name). */
const handOverMark = 1;
/** A handed-over task no dequeue took within this long goes back to pending (its server stopped). */
const handBackAfter = 1000;

/** A task an enqueue script leased to this consumer while it waited, until a dequeue takes it. */
interface HandedOver {
  queue: string;
  leased: LeasedTask;
  handBack: ReturnType<typeof setTimeout>;
}

/** The fields of a hand-over message (see lua/include/hand-over.lua), or undefined for a plain wake-up. */
function readHandOver(
  message: Buffer,
): { consumer: string; taskId: string; expiry: number; token: string; msg: Buffer } | undefined {
  if (message[0] !== handOverMark) return undefined;
  const fields: string[] = [];
  let start = 1;
  for (let field = 0; field < 4; field += 1) {
    const end = message.indexOf(handOverMark, start);
    if (end < 0) return undefined;
    fields.push(message.toString('utf8', start, end));
    start = end + 1;
  }
  const [consumer, taskId, expiry, token] = fields as [string, string, string, string];
  return { consumer, taskId, expiry: Number(expiry), token, msg: message.subarray(start) };
}

export class RedisTaskConsumer implements TaskConsumer {
  private readonly doneCoalescer = new CallCoalescer<DoneItem, number>((items) => this.sendDone(items));
  /** Names this consumer in hand-over registrations. */
  private readonly consumerId = randomUUID();
  /** Queues a `waitForTasks` call waits on now, with how many such calls, and when the last one ends. */
  private readonly waits = new Map<string, { calls: number; lapsesAt: number }>();
  /** Queues whose notify channel carries hand-overs to this consumer (listened to until close). */
  private readonly handOverChannels = new Set<string>();
  /** Of those, the ones whose subscription Redis confirmed: only then may this consumer register. */
  private readonly handOverReady = new Set<string>();
  private readonly handedOver: HandedOver[] = [];
  /** The waiters-zset members this consumer registered with (one per lease duration in use). */
  private readonly members = new Set<string>();
  private closed = false;

  constructor(private readonly context: RedisBrokerContext) {}

  private get connection() {
    return this.context.connection;
  }

  async dequeue(queues: readonly string[], options: DequeueOptions): Promise<FlowDequeueResult> {
    assertPositive(options.leaseDuration, 'leaseDuration');
    if (!Number.isFinite(options.count) || options.count < 0) {
      throw new ValidationError(`count must be a number of tasks, got ${String(options.count)}.`, [
        { path: 'count', message: 'not a count' },
      ]);
    }
    const handed = this.takeHandedOver(queues, Math.floor(options.count));
    if (handed.length > 0) {
      // Leased by an enqueue already: no round trip. Stay registered for the next one while waiting.
      this.register(queues, options.leaseDuration);
      return { tasks: handed, malformed: [] };
    }
    const tasks: LeasedTask[] = [];
    const malformed: MalformedRecord[] = [];
    const held: FlowHold[] = [];
    const limited: string[] = [];
    for (const queue of queues) {
      const remaining = Math.floor(options.count) - tasks.length;
      if (remaining <= 0) break;
      // The first call of a large enough dequeue also acknowledges this queue's tasks that finished in the
      // same turn (typically the ones whose slots it fills): one script call instead of two.
      const acks =
        queue === queues[0] && options.count >= carryAcknowledgementsFrom
          ? await this.doneCoalescer.claimAtFlush((item) => item.message.queue === queue, maxDoneBatch)
          : [];
      let sent: SentDequeue;
      try {
        sent = await this.sendDequeue(queue, remaining, options.leaseDuration, acks);
      } catch (error) {
        // A broken queue (say, pending is not a list) must not stop the others; Redis being down must.
        if (isUnavailableError(error) || /^OOM/.test((error as Error).message)) throw error;
        this.skipQueue(queue, (error as Error).message);
        continue;
      }
      if (sent.error !== undefined) {
        // The same, reported in the reply so that the acknowledgements it carried were answered.
        if (/^OOM/.test(sent.error)) throw new Error(sent.error);
        this.skipQueue(queue, sent.error);
        continue;
      }
      const { leaseExpiresAt, leaseToken } = sent;
      const taken: LeasedTask[] = [];
      if (sent.flow !== undefined) {
        limited.push(queue);
        const hold = readFlowHold(queue, sent.flow);
        if (hold) held.push(hold);
      }
      for (const triple of sent.triples) {
        const reading = readRecord(queue, triple);
        if (reading.ok) {
          taken.push({ message: reading.message, leaseExpiresAt, leaseToken });
        } else {
          await this.archiveMalformed(queue, reading);
          malformed.push({ queue, taskId: reading.taskId, reason: reading.reason });
        }
      }
      tasks.push(...(await this.freshLeases(queue, taken, options.leaseDuration)));
    }
    const result: FlowDequeueResult = { tasks, malformed };
    if (limited.length > 0) {
      result.limited = limited;
      result.held = held;
    }
    return result;
  }

  /**
   * Sends one queue's dequeue script call, carrying `acks` (acknowledgements claimed from the batch),
   * and answers them as soon as it returns; if anything fails first, they are rejected (and retried by
   * their callers). Returns the task and flow triples, and an error the script reported in its reply.
   */
  private async sendDequeue(
    queue: string,
    count: number,
    leaseDuration: number,
    acks: readonly Waiter<DoneItem, number>[],
  ): Promise<SentDequeue> {
    let answered = false;
    try {
      const keys = this.context.keys.queue(queue);
      const now = this.context.now();
      const leaseExpiresAt = now + leaseDuration;
      const leaseToken = randomUUID();
      const wait = this.canRegister(queue) ? this.waits.get(queue) : undefined;
      const scriptKeys = [
        keys.pending,
        keys.paused,
        keys.active,
        keys.lease,
        keys.flow,
        keys.flowStarts,
        keys.flowParked,
        keys.waiters,
      ];
      const args: (string | number | Buffer)[] = [
        toUnixSeconds(leaseExpiresAt),
        keys.taskPrefix,
        count,
        leaseToken,
        keys.flowKeyPrefix,
        wait ? this.waiterMember(leaseDuration) : '',
        wait ? Math.floor(wait.lapsesAt) : 0,
        Math.floor(now),
      ];
      if (acks.length > 0) {
        scriptKeys.push(keys.processed(now), keys.processedTotal);
        args.push(acks.length, toUnixSeconds(now + statsTtlMilliseconds));
        args.push(packDone(acks.map((ack) => ack.item)));
      }
      const reply = await runScriptBuffer(this.connection, { script: 'dequeue', keys: scriptKeys, args });
      const triples: unknown[][] = [];
      let codes: string | undefined;
      let error: string | undefined;
      let flow: string | undefined;
      // Each kind read once here: the task triples go on to `readRecord` as they are.
      for (const triple of replyTuples(reply, 3)) {
        const kind = replyText(triple[1]);
        if (kind === 'acks') codes = replyText(triple[2]);
        else if (kind === 'error') error = replyText(triple[2]);
        else if (kind === 'flow') flow = replyText(triple[2]);
        else triples.push(triple);
      }
      answered = true;
      if (acks.length > 0) answerAcks(acks, codes);
      return { triples, flow, error, leaseExpiresAt, leaseToken };
    } catch (error) {
      if (!answered) for (const ack of acks) ack.reject(error);
      throw error;
    }
  }

  private skipQueue(queue: string, error: string): void {
    this.context.logger.error(
      { queue, error },
      'Could not dequeue from this queue; skipping it. Inspect its keys.',
    );
  }

  /**
   * The lease expiry is fixed when the dequeue is sent. A dequeue held up on the way (a network cut, a
   * stalled Redis) can run much later and lease tasks until a time that has already passed, so that they
   * would be recovered while they run. Such leases are extended under their token before the tasks are
   * handed out; a task whose lease was already recovered by someone else is not handed out at all.
   */
  private async freshLeases(
    queue: string,
    taken: LeasedTask[],
    leaseDuration: number,
  ): Promise<LeasedTask[]> {
    const first = taken[0];
    if (!first || first.leaseExpiresAt - this.context.now() > leaseDuration / 2) return taken;
    const ids = taken.map((task) => task.message.id);
    const tokens = new Map(taken.map((task) => [task.message.id, task.leaseToken ?? '']));
    const extension = await this.extendLeases(queue, ids, leaseDuration, tokens);
    const lost = new Set(extension.lost);
    this.context.logger.warn(
      { queue, taken: ids.length, alreadyRecovered: lost.size },
      'A dequeue was answered late (its lease had nearly run out); the leases were renewed before starting the tasks',
    );
    return taken
      .filter((task) => !lost.has(task.message.id))
      .map((task) => ({ ...task, leaseExpiresAt: extension.leaseExpiresAt }));
  }

  /**
   * Waits for a producer's wake-up on any of `queues`. While it waits, a dequeue that finds a queue
   * empty registers this consumer for a hand-over: the next enqueue leases it the task and publishes
   * it, which ends the wait, and the next dequeue returns the task without a round trip.
   */
  waitForTasks(queues: readonly string[], timeout: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted || queues.length === 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      let settled = false;
      const removers: (() => void)[] = [];
      const lapsesAt = this.context.now() + Math.max(0, timeout);
      for (const queue of queues) {
        const wait = this.waits.get(queue);
        if (wait) {
          wait.calls += 1;
          wait.lapsesAt = Math.max(wait.lapsesAt, lapsesAt);
        } else {
          this.waits.set(queue, { calls: 1, lapsesAt });
        }
      }
      const finish = (notified: boolean, cancelled = false): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        for (const remove of removers) remove();
        const ended: string[] = [];
        for (const queue of queues) {
          const wait = this.waits.get(queue);
          if (wait && --wait.calls === 0) {
            this.waits.delete(queue);
            ended.push(queue);
          }
        }
        // Called off (the server stopped fetching, or found work): no hand-over for it any more. A wait
        // that timed out or was woken is followed by a dequeue, which registers again if need be.
        if (cancelled && ended.length > 0) this.unregister(ended);
        resolve(notified);
      };
      const onAbort = (): void => finish(false, true);
      const timer = setTimeout(() => finish(false), Math.max(0, timeout));
      signal?.addEventListener('abort', onAbort, { once: true });
      for (const queue of queues) {
        this.listenForHandOvers(queue);
        const subscription = this.context.subscriber.listen(
          this.context.keys.queue(queue).notify,
          (message) => {
            // A task handed over to another server is not news for this one.
            const handOver = readHandOver(message);
            if (!handOver || handOver.consumer === this.consumerId) finish(true);
          },
        );
        removers.push(() => subscription.remove());
        subscription.ready.catch((error: unknown) => {
          // Without pub/sub the caller's timeout-paced polling still finds the work.
          this.context.logger.debug(
            { queue, error: (error as Error).message },
            'Could not subscribe to new-task notifications',
          );
        });
      }
    });
  }

  /**
   * A hand-over published to this consumer now would reach it. When the pub/sub connection drops after
   * a registration, a task handed over meanwhile is not lost: its lease runs out and the recoverer
   * retries it, as for a server that died.
   */
  private canRegister(queue: string): boolean {
    return this.handOverReady.has(queue) && this.context.subscriber.live;
  }

  /** `<lease seconds>:<consumer id>`, as the waiters zset holds it. */
  private waiterMember(leaseDuration: number): string {
    const member = `${Math.max(1, Math.ceil(leaseDuration / 1000))}:${this.consumerId}`;
    this.members.add(member);
    return member;
  }

  /**
   * Renews the hand-over registration of the queues waited on (no dequeue went to Redis), once the
   * handed-over task has started: the write is off the path from the enqueue to the handler.
   */
  private register(queues: readonly string[], leaseDuration: number): void {
    setImmediate(() => {
      const now = this.context.now();
      // One script call per queue, not an ioredis pipeline: making a pipeline copies every defined script
      // onto it, about 0.2 ms per hand-over in the pickup profile.
      for (const queue of queues) {
        const wait = this.waits.get(queue);
        if (!wait || wait.lapsesAt <= now || !this.canRegister(queue)) continue;
        runScript(this.connection, {
          script: 'register-waiter',
          keys: [this.context.keys.queue(queue).waiters],
          args: [this.waiterMember(leaseDuration), Math.floor(wait.lapsesAt), Math.floor(now)],
        }).catch((error: unknown) => {
          // The next dequeue registers again; until then, enqueues wake this server instead.
          this.context.logger.debug(
            { queue, error: (error as Error).message },
            'Could not renew a hand-over registration',
          );
        });
      }
    });
  }

  /** Withdraws this consumer's hand-over registrations on `queues`. */
  private unregister(queues: readonly string[]): void {
    if (this.members.size === 0) return;
    const members = [...this.members];
    for (const queue of queues) {
      // Sent at once, so that an enqueue sent after the wait was called off finds no registration.
      this.connection.zrem(this.context.keys.queue(queue).waiters, ...members).catch((error: unknown) => {
        this.context.logger.debug(
          { queue, error: (error as Error).message },
          'Could not withdraw a hand-over registration; it lapses on its own',
        );
      });
    }
  }

  /** Keeps the tasks enqueues hand over to this consumer on `queue` (from the first wait on, until close). */
  private listenForHandOvers(queue: string): void {
    if (this.handOverChannels.has(queue)) return;
    this.handOverChannels.add(queue);
    const subscription = this.context.subscriber.listen(this.context.keys.queue(queue).notify, (message) => {
      const handOver = readHandOver(message);
      if (handOver?.consumer === this.consumerId) this.receiveHandOver(queue, handOver);
    });
    subscription.ready.then(
      () => this.handOverReady.add(queue),
      () => {
        // Not subscribed: no registration (a hand-over published now would reach nobody); listen again
        // on the next wait.
        subscription.remove();
        this.handOverChannels.delete(queue);
      },
    );
  }

  private receiveHandOver(queue: string, handOver: NonNullable<ReturnType<typeof readHandOver>>): void {
    const reading = readRecord(queue, [handOver.taskId, 'ok', handOver.msg]);
    const leaseToken = handOver.token;
    if (!reading.ok) {
      // Leased to this consumer already: archived here, as a dequeue would.
      void this.archiveMalformed(queue, reading);
      return;
    }
    const leased: LeasedTask = {
      message: reading.message,
      leaseExpiresAt: handOver.expiry * 1000,
      leaseToken,
    };
    if (this.closed) {
      void this.handBack(leased);
      return;
    }
    const entry: HandedOver = {
      queue,
      leased,
      handBack: setTimeout(() => {
        const index = this.handedOver.indexOf(entry);
        if (index < 0) return;
        this.handedOver.splice(index, 1);
        void this.handBack(leased);
      }, handBackAfter),
    };
    this.handedOver.push(entry);
  }

  /** Takes up to `count` handed-over tasks of `queues`, oldest first. */
  private takeHandedOver(queues: readonly string[], count: number): LeasedTask[] {
    if (this.handedOver.length === 0) return [];
    const taken: LeasedTask[] = [];
    for (let index = 0; index < this.handedOver.length && taken.length < count;) {
      const entry = this.handedOver[index]!;
      if (!queues.includes(entry.queue)) {
        index += 1;
        continue;
      }
      clearTimeout(entry.handBack);
      this.handedOver.splice(index, 1);
      taken.push(entry.leased);
    }
    return taken;
  }

  /** Puts a handed-over task no dequeue took back at the head of pending, waking the other servers. */
  private async handBack(leased: LeasedTask): Promise<void> {
    try {
      await this.requeue(leased.message, { token: leased.leaseToken ?? '' });
    } catch (error) {
      this.context.logger.warn(
        { queue: leased.message.queue, taskId: leased.message.id, error: (error as Error).message },
        'Could not hand back a task handed over to a server that stopped waiting; the recoverer will retry it when its lease ends',
      );
    }
  }

  /** Hands back every task handed over and not taken (the broker is closing). */
  async releaseHandedOver(): Promise<void> {
    this.closed = true;
    const entries = this.handedOver.splice(0);
    await Promise.all(
      entries.map((entry) => {
        clearTimeout(entry.handBack);
        return this.handBack(entry.leased);
      }),
    );
  }

  /** Coalesced with the other tasks of the queue finished at the same time: one script call for all. */
  async done(message: TaskMessage, fence?: LeaseFence): Promise<void> {
    if ((await this.doneCoalescer.submit({ message, fence })) !== 1) {
      throw new LeaseLostError(message.queue, message.id);
    }
  }

  /** Acknowledges finished tasks: per queue (and per `maxDoneBatch`), one script call. */
  private async sendDone(items: readonly DoneItem[]): Promise<CallOutcome<number>[]> {
    const now = this.context.now();
    const outcomes = new Array<CallOutcome<number>>(items.length);
    await Promise.all(
      chunksBy(items, (item) => item.message.queue, maxDoneBatch).map(async (indexes) => {
        try {
          const codes = await this.runDone(
            indexes.map((index) => items[index]!),
            now,
          );
          indexes.forEach((itemIndex, position) => {
            outcomes[itemIndex] = { ok: true, value: codes[position] ?? 0 };
          });
        } catch (error) {
          for (const index of indexes) outcomes[index] = { ok: false, error };
        }
      }),
    );
    return outcomes;
  }

  private async runDone(items: readonly DoneItem[], now: number): Promise<number[]> {
    const first = items[0]!;
    const keys = this.context.keys.queue(first.message.queue);
    const statsExpiry = toUnixSeconds(now + statsTtlMilliseconds);
    if (items.length === 1) {
      const { message, fence } = first;
      const scriptKeys = [
        keys.active,
        keys.lease,
        keys.task(message.id),
        keys.processed(now),
        keys.processedTotal,
      ];
      if (message.uniqueKey) scriptKeys.push(message.uniqueKey);
      const done = await runScript(this.connection, {
        script: 'done',
        keys: scriptKeys,
        args: [message.id, statsExpiry, maxInt64, ...fenceArguments(fence)],
      });
      return [replyNumber(done)];
    }
    const args = [statsExpiry, keys.taskPrefix, items.length, packDone(items)];
    const codes = await runScript(this.connection, {
      script: 'done-batch',
      keys: [keys.active, keys.lease, keys.processed(now), keys.processedTotal],
      args,
    });
    return replyArray(codes).map(replyNumber);
  }

  async markComplete(message: TaskMessage, completedAt: number, fence?: LeaseFence): Promise<void> {
    const keys = this.context.keys.queue(message.queue);
    const now = this.context.now();
    const completed: TaskMessage = { ...message, completedAtUnixSeconds: toUnixSeconds(completedAt) };
    const scriptKeys = [
      keys.active,
      keys.lease,
      keys.completed,
      keys.task(message.id),
      keys.processed(now),
      keys.processedTotal,
    ];
    if (message.uniqueKey) scriptKeys.push(message.uniqueKey);
    const done = await runScript(this.connection, {
      script: 'mark-as-complete',
      keys: scriptKeys,
      args: [
        message.id,
        toUnixSeconds(now + statsTtlMilliseconds),
        completed.completedAtUnixSeconds + message.retentionSeconds,
        encodeTaskMessage(completed),
        maxInt64,
        ...fenceArguments(fence),
      ],
    });
    if (replyNumber(done) !== 1) throw new LeaseLostError(message.queue, message.id);
  }

  async requeue(message: TaskMessage, fence?: LeaseFence): Promise<void> {
    const keys = this.context.keys.queue(message.queue);
    const requeued = await runScript(this.connection, {
      script: 'requeue',
      keys: [keys.active, keys.lease, keys.pending, keys.task(message.id)],
      args: [message.id, keys.notify, keys.queue, ...fenceArguments(fence)],
    });
    if (replyNumber(requeued) !== 1) throw new LeaseLostError(message.queue, message.id);
  }

  async retry(message: TaskMessage, options: RetryOptions): Promise<void> {
    const keys = this.context.keys.queue(message.queue);
    const now = this.context.now();
    const updated: TaskMessage = {
      ...message,
      retried: options.isFailure ? message.retried + 1 : message.retried,
      errorMessage: options.errorMessage,
      lastFailedAtUnixSeconds: toUnixSeconds(now),
    };
    const moved = await runScript(this.connection, {
      script: 'retry',
      keys: [
        keys.task(message.id),
        keys.active,
        keys.lease,
        keys.retry,
        keys.processed(now),
        keys.failed(now),
        keys.processedTotal,
        keys.failedTotal,
      ],
      args: [
        message.id,
        encodeTaskMessage(updated),
        toUnixSeconds(options.processAt),
        toUnixSeconds(now + statsTtlMilliseconds),
        options.isFailure ? 1 : 0,
        maxInt64,
        ...fenceArguments(options.fence),
      ],
    });
    if (replyNumber(moved) !== 1) throw new LeaseLostError(message.queue, message.id);
  }

  async archive(message: TaskMessage, errorMessage: string, fence?: LeaseFence): Promise<void> {
    const keys = this.context.keys.queue(message.queue);
    const now = this.context.now();
    const updated: TaskMessage = { ...message, errorMessage, lastFailedAtUnixSeconds: toUnixSeconds(now) };
    const archived = await runScript(this.connection, {
      script: 'archive',
      keys: [
        keys.task(message.id),
        keys.active,
        keys.lease,
        keys.archived,
        keys.processed(now),
        keys.failed(now),
        keys.processedTotal,
        keys.failedTotal,
      ],
      args: [
        message.id,
        encodeTaskMessage(updated),
        toUnixSeconds(now),
        toUnixSeconds(now - archiveRetentionMilliseconds),
        maxArchiveSize,
        toUnixSeconds(now + statsTtlMilliseconds),
        maxInt64,
        keys.taskPrefix,
        ...fenceArguments(fence),
      ],
    });
    if (replyNumber(archived) !== 1) throw new LeaseLostError(message.queue, message.id);
  }

  async extendLeases(
    queue: string,
    taskIds: readonly string[],
    leaseDuration: number,
    leaseTokens?: ReadonlyMap<string, string>,
  ): Promise<LeaseExtension> {
    assertPositive(leaseDuration, 'leaseDuration');
    const leaseExpiresAt = this.context.now() + leaseDuration;
    if (taskIds.length === 0) return { leaseExpiresAt, lost: [] };
    const keys = this.context.keys.queue(queue);
    const lost = await runScript(this.connection, {
      script: 'extend-lease',
      keys: [keys.lease, ...taskIds.map((id) => keys.task(id))],
      args: [toUnixSeconds(leaseExpiresAt), ...taskIds.flatMap((id) => [id, leaseTokens?.get(id) ?? ''])],
    });
    return { leaseExpiresAt, lost: replyArray(lost).map(replyText) };
  }

  async writeResult(queue: string, taskId: string, result: Uint8Array): Promise<void> {
    const written = await runScript(this.connection, {
      script: 'write-result',
      keys: [this.context.keys.queue(queue).task(taskId)],
      args: [result],
    });
    if (replyNumber(written) !== 1) throw new TaskNotFoundError(queue, taskId);
  }

  async listLeaseExpired(queues: readonly string[], cutoff: number): Promise<TaskMessage[]> {
    const perQueue = await Promise.all(
      queues.map(async (queue) => {
        const keys = this.context.keys.queue(queue);
        const reply = await runScriptBuffer(this.connection, {
          script: 'list-lease-expired',
          keys: [keys.lease, keys.active],
          args: [toUnixSeconds(cutoff), keys.taskPrefix],
        });
        const messages: TaskMessage[] = [];
        for (const triple of replyTuples(reply, 3)) {
          const reading = readRecord(queue, triple);
          if (reading.ok) messages.push(reading.message);
          else await this.archiveMalformed(queue, reading);
        }
        return messages;
      }),
    );
    return perQueue.flat();
  }

  async forward(queues: readonly string[], now: number): Promise<number> {
    const moved = await Promise.all(
      queues.map(async (queue) => {
        const keys = this.context.keys.queue(queue);
        let total = 0;
        for (const source of [keys.scheduled, keys.retry]) {
          for (;;) {
            const count = replyNumber(
              await runScript(this.connection, {
                script: 'forward',
                keys: [source, keys.pending, keys.groups],
                args: [
                  toUnixSeconds(now),
                  keys.taskPrefix,
                  toUnixNanoseconds(now),
                  keys.groupPrefix,
                  forwardBatchSize,
                  keys.notify,
                  keys.queue,
                ],
              }),
            );
            total += count;
            if (count < forwardBatchSize) break;
          }
        }
        return total;
      }),
    );
    return moved.reduce((sum, count) => sum + count, 0);
  }

  async deleteExpiredCompleted(queue: string, now: number, batchSize: number): Promise<number> {
    assertPositive(batchSize, 'batchSize');
    const keys = this.context.keys.queue(queue);
    return replyNumber(
      await runScript(this.connection, {
        script: 'delete-expired-completed',
        keys: [keys.completed],
        args: [toUnixSeconds(now), keys.taskPrefix, Math.floor(batchSize)],
      }),
    );
  }

  async listGroups(queue: string): Promise<string[]> {
    return (await this.connection.smembers(this.context.keys.queue(queue).groups)).sort();
  }

  async aggregationCheck(
    queue: string,
    group: string,
    options: AggregationCheckOptions,
  ): Promise<string | undefined> {
    if (!options.setId) {
      throw new ValidationError('aggregationCheck needs a setId for the new aggregation set.', [
        { path: 'options.setId', message: 'empty' },
      ]);
    }
    const keys = this.context.keys.queue(queue);
    const created = await runScript(this.connection, {
      script: 'aggregation-check',
      keys: [keys.group(group), keys.aggregationSet(group, options.setId), keys.aggregationSets, keys.groups],
      args: [
        Math.max(0, Math.floor(options.maxSize)),
        Math.max(0, Math.floor(options.maxDelay / 1000)),
        Math.max(0, Math.floor(options.gracePeriod / 1000)),
        toUnixSeconds(options.now + aggregationTimeoutMilliseconds),
        toUnixSeconds(options.now),
        group,
      ],
    });
    return replyNumber(created) === 1 ? options.setId : undefined;
  }

  async readAggregationSet(queue: string, group: string, setId: string): Promise<AggregationSet> {
    const keys = this.context.keys.queue(queue);
    const reply = await runScriptBuffer(this.connection, {
      script: 'read-aggregation-set',
      keys: [keys.aggregationSet(group, setId)],
      args: [keys.taskPrefix],
    });
    const messages: TaskMessage[] = [];
    for (const [id, msg] of replyTuples(reply, 2)) {
      const bytes = replyBytes(msg);
      try {
        if (!bytes) throw new Error('the task record has no msg');
        messages.push(decodeTaskMessage(bytes));
      } catch (error) {
        this.context.logger.warn(
          { queue, group, setId, taskId: replyText(id), error: (error as Error).message },
          'Skipped an unreadable task of an aggregation set',
        );
      }
    }
    return { messages };
  }

  async deleteAggregationSet(queue: string, group: string, setId: string): Promise<void> {
    const keys = this.context.keys.queue(queue);
    await runScript(this.connection, {
      script: 'delete-aggregation-set',
      keys: [keys.aggregationSet(group, setId), keys.aggregationSets],
      args: [keys.taskPrefix],
    });
  }

  async reclaimStaleAggregationSets(queue: string, now: number): Promise<void> {
    const keys = this.context.keys.queue(queue);
    await runScript(this.connection, {
      script: 'reclaim-stale-aggregation-sets',
      keys: [keys.aggregationSets, keys.groups],
      args: [toUnixSeconds(now), keys.groupPrefix],
    });
  }

  async writeServerState(server: ServerState, workers: readonly WorkerState[], ttl: number): Promise<void> {
    assertPositive(ttl, 'ttl');
    const { keys } = this.context;
    const identity = { host: server.host, pid: server.pid, id: server.serverId };
    const serverKey = keys.serverInfo(identity);
    const workersKey = keys.workersOf(identity);
    const expiresAt = toUnixSeconds(this.context.now() + ttl);
    const workerArgs = workers.flatMap((worker) => [worker.taskId, encodeWorkerInfo(worker)]);
    await Promise.all([
      this.connection.zadd(keys.servers, expiresAt, serverKey),
      this.connection.zadd(keys.workers, expiresAt, workersKey),
      runScript(this.connection, {
        script: 'write-server-state',
        keys: [serverKey, workersKey],
        args: [toWholeSeconds(ttl), encodeServerInfo(server), ...workerArgs],
      }),
    ]);
  }

  async clearServerState(server: Pick<ServerState, 'host' | 'pid' | 'serverId'>): Promise<void> {
    const { keys } = this.context;
    const identity = { host: server.host, pid: server.pid, id: server.serverId };
    const serverKey = keys.serverInfo(identity);
    const workersKey = keys.workersOf(identity);
    await Promise.all([
      this.connection.zrem(keys.servers, serverKey),
      this.connection.zrem(keys.workers, workersKey),
      runScript(this.connection, { script: 'clear-server-state', keys: [serverKey, workersKey], args: [] }),
    ]);
  }

  async subscribeCancel(listener: (taskId: string) => void): Promise<() => Promise<void>> {
    const subscription = this.context.subscriber.listen(this.context.keys.cancel, (message) =>
      listener(message.toString()),
    );
    try {
      await subscription.ready;
    } catch (error) {
      subscription.remove();
      throw error;
    }
    return () => {
      subscription.remove();
      return Promise.resolve();
    };
  }

  /** Archives a record that could not be read, keeping its bytes; logs instead of throwing. */
  private async archiveMalformed(queue: string, reading: MalformedReading): Promise<void> {
    const keys = this.context.keys.queue(queue);
    const taskKey = keys.task(reading.taskId);
    const now = this.context.now();
    try {
      // A record of another type is kept as its DUMP serialization (RESTORE-able).
      const raw = reading.recordType
        ? ((await this.connection.dumpBuffer(taskKey)) ?? reading.raw)
        : reading.raw;
      await runScript(this.connection, {
        script: 'archive-malformed',
        keys: [taskKey, keys.active, keys.lease, keys.archived],
        args: [
          reading.taskId,
          encodeTaskMessage(replacementMessage(queue, reading, raw)),
          toUnixSeconds(now),
          toUnixSeconds(now - archiveRetentionMilliseconds),
          maxArchiveSize,
          keys.taskPrefix,
        ],
      });
      this.context.logger.warn(
        { queue, taskId: reading.taskId, reason: reading.reason },
        'Archived a malformed task record',
      );
    } catch (error) {
      this.context.logger.error(
        { queue, taskId: reading.taskId, reason: reading.reason, error: (error as Error).message },
        'Could not archive a malformed task record',
      );
    }
  }
}
