/**
 * `FlowControl` on Redis (@q extension): a queue's limits live in `P:{q}:flow`, read by every @q
 * server's dequeue (`lua/dequeue.lua`), and its rate's start log in `P:{q}:flow:starts`; per-key limits
 * park tasks under `P:{q}:flow:parked` and `P:{q}:flow:k:<key>:…`. Go Asynq never
 * reads or lists these keys: its servers do not obey the limits, and its inspector is not disturbed.
 */
import { assertQueueName } from '@q/core/internal';
import {
  assertFlowKey,
  assertFlowLimitsUpdate,
  ValidationError,
  type FlowControl,
  type FlowKeyLimits,
  type FlowKeyLimitsUpdate,
  type FlowKeyState,
  type FlowLimits,
  type FlowLimitsUpdate,
  type FlowState,
} from '@q/core';
import type { RedisBrokerContext } from './redis-broker-context';
import { replyArray, replyNumber, replyText } from './redis-reply';
import { runScript } from './redis-scripts';

/** A limits update as set-flow-limits.lua reads it: concurrency, rate, period ("" keeps, "-" removes). */
function limitArguments(limits: FlowKeyLimitsUpdate): (string | number)[] {
  const concurrency =
    limits.concurrency === undefined ? '' : limits.concurrency === null ? '-' : limits.concurrency;
  const rate = limits.rate === undefined ? '' : limits.rate === null ? '-' : limits.rate.limit;
  const period = limits.rate ? limits.rate.period : '';
  return [concurrency, rate, period];
}

export class RedisFlowControl implements FlowControl {
  constructor(private readonly context: RedisBrokerContext) {}

  async setFlowLimits(queue: string, limits: FlowLimitsUpdate): Promise<void> {
    assertQueueName(queue);
    assertFlowLimitsUpdate(limits);
    const keys = this.context.keys.queue(queue);
    const perKey = limits.perKey === null ? { concurrency: null, rate: null } : (limits.perKey ?? {});
    await runScript(this.context.connection, {
      script: 'set-flow-limits',
      keys: [keys.flow, keys.flowStarts, keys.flowParked, keys.pending],
      args: [...limitArguments(limits), keys.notify, queue, ...limitArguments(perKey), keys.flowKeyPrefix],
    });
  }

  async clearFlowLimits(queue: string): Promise<void> {
    assertQueueName(queue);
    const keys = this.context.keys.queue(queue);
    await runScript(this.context.connection, {
      script: 'clear-flow-limits',
      keys: [keys.flow, keys.flowStarts, keys.flowParked, keys.pending],
      args: [keys.notify, queue, keys.flowKeyPrefix],
    });
  }

  async flowState(queue: string): Promise<FlowState> {
    assertQueueName(queue);
    const keys = this.context.keys.queue(queue);
    const reply = replyArray(
      await runScript(this.context.connection, {
        script: 'flow-state',
        keys: [keys.flow, keys.flowStarts, keys.lease, keys.flowParked],
        args: [keys.flowKeyPrefix],
      }),
    );
    const field = (index: number): number | undefined => {
      const text = replyText(reply[index]);
      return text === '' ? undefined : Number(text);
    };
    const limits: FlowLimits = {};
    const concurrency = field(0);
    const rateLimit = field(1);
    const ratePeriod = field(2);
    if (concurrency !== undefined) limits.concurrency = concurrency;
    if (rateLimit !== undefined && ratePeriod !== undefined) {
      limits.rate = { limit: rateLimit, period: ratePeriod };
    }
    const state: FlowState = {
      queue,
      limits,
      running: replyNumber(reply[4]),
      startedInWindow: replyNumber(reply[5]),
      timestamp: replyNumber(reply[6]),
    };
    const pausedUntil = field(3);
    if (pausedUntil !== undefined) state.pausedUntil = pausedUntil;
    const perKey: FlowKeyLimits = {};
    const keyConcurrency = field(7);
    const keyRateLimit = field(8);
    const keyRatePeriod = field(9);
    if (keyConcurrency !== undefined) perKey.concurrency = keyConcurrency;
    if (keyRateLimit !== undefined && keyRatePeriod !== undefined) {
      perKey.rate = { limit: keyRateLimit, period: keyRatePeriod };
    }
    if (keyConcurrency !== undefined || keyRateLimit !== undefined) limits.perKey = perKey;
    const parked = replyNumber(reply[10]);
    if (limits.perKey || parked > 0) {
      const keyStates: FlowKeyState[] = [];
      for (let index = 12; index + 4 < reply.length; index += 5) {
        const keyState: FlowKeyState = {
          key: replyText(reply[index]),
          parked: replyNumber(reply[index + 1]),
          running: replyNumber(reply[index + 2]),
          startedInWindow: replyNumber(reply[index + 3]),
        };
        const keyPausedUntil = replyText(reply[index + 4]);
        if (keyPausedUntil !== '') keyState.pausedUntil = Number(keyPausedUntil);
        keyStates.push(keyState);
      }
      state.perKey = { parked, parkedKeys: replyNumber(reply[11]), keys: keyStates };
    }
    return state;
  }

  async pauseFlow(queue: string, duration: number, flowKey?: string): Promise<void> {
    assertQueueName(queue);
    if (flowKey !== undefined) assertFlowKey(flowKey);
    if (!Number.isFinite(duration) || duration <= 0) {
      throw new ValidationError(
        `duration must be a positive number of milliseconds, got ${String(duration)}.`,
        [{ path: 'duration', message: 'not positive' }],
      );
    }
    const keys = this.context.keys.queue(queue);
    await runScript(this.context.connection, {
      script: 'pause-flow',
      keys:
        flowKey === undefined
          ? [keys.flow]
          : [keys.flow, `${keys.flowKeyPrefix}${flowKey}:paused`, keys.flowParked],
      args: flowKey === undefined ? [Math.ceil(duration)] : [Math.ceil(duration), flowKey],
    });
  }

  async announceFlowSlot(queue: string): Promise<void> {
    const keys = this.context.keys.queue(queue);
    await this.context.connection.publish(keys.notify, queue);
  }
}
