/**
 * Flow control, an optional broker capability: limits held in the store so that every server taking
 * from a queue obeys the same numbers. A broker that has it implements `FlowControl` beside `Broker`, and
 * its `dequeue` honours the limits and reports the queues it held back (`FlowDequeueResult`). Servers,
 * inspectors and the conformance suite check for it with `hasFlowControl(broker)`.
 */
import type { DequeueResult } from './broker';
import { ValidationError } from './errors';
import { assertKnownKeys, queueNameProblem, queueNameRule } from './validation';

/** A rate: at most `limit` tasks started in any window of `period` milliseconds. */
export interface FlowRate {
  limit: number;
  /** Milliseconds. */
  period: number;
}

/** The limits that apply to each flow key of a queue on its own; an absent field is no limit. */
export interface FlowKeyLimits {
  /** Tasks of one flow key running at once across every server. */
  concurrency?: number;
  /** Tasks of one flow key started per period across every server (a sliding window). */
  rate?: FlowRate;
}

/** The limits of one queue; an absent field is no limit. */
export interface FlowLimits {
  /** Tasks of the queue running at once across every server. */
  concurrency?: number;
  /** Tasks of the queue started per period across every server (a sliding window, not a fixed one). */
  rate?: FlowRate;
  /**
   * Limits for every flow key of the queue (the `flowKey` enqueue option: a tenant, a customer), each key
   * on its own. Tasks without a flow key are held only by the queue's own limits.
   */
  perKey?: FlowKeyLimits;
}

/** A flow key whose tasks wait on its per-key limits. */
export interface FlowKeyState {
  key: string;
  /** Tasks of the key that wait aside, counted as pending. */
  parked: number;
  /** Tasks of the key leased now. */
  running: number;
  /** Tasks of the key started in the per-key rate's current window; 0 without a per-key rate. */
  startedInWindow: number;
  /** Until when a handler's `RateLimitedError` with scope `flowKey` holds the key (Unix ms); absent if not. */
  pausedUntil?: number;
}

/** Where a queue's per-key limits stand. */
export interface FlowKeysState {
  /** Tasks parked aside because their key was at its limit (included in the queue's pending count). */
  parked: number;
  /** How many flow keys have parked tasks. */
  parkedKeys: number;
  /** The keys with parked tasks, those with the most first, at most 10. */
  keys: FlowKeyState[];
}

/** The limits of a queue and where it stands against them, as the store saw it at `timestamp`. */
export interface FlowState {
  queue: string;
  limits: FlowLimits;
  /** Tasks of the queue leased now (running, or finished and not yet acknowledged). */
  running: number;
  /** Tasks started in the rate's current window; 0 without a rate. */
  startedInWindow: number;
  /** Until when a handler's "rate limited, come back later" holds the queue (Unix ms); absent if not. */
  pausedUntil?: number;
  /** The store's clock when read (Unix ms). */
  timestamp: number;
  /** Present when the queue has per-key limits or tasks parked by them. */
  perKey?: FlowKeysState;
}

/**
 * Why a dequeue took nothing (or less than it could) from a queue: its own limits (`concurrency`,
 * `rate`, `paused`), or `keys` when every task it looked at belongs to a flow key at its per-key limit.
 */
export type FlowHoldReason = 'concurrency' | 'rate' | 'paused' | 'keys';

export interface FlowHold {
  queue: string;
  reason: FlowHoldReason;
  /**
   * Milliseconds until a task can be taken again (a token, or the end of a pause); absent when that
   * depends on running tasks finishing (`concurrency`).
   */
  retryAfter?: number;
}

/** What a flow-controlled broker's `dequeue` returns. */
export interface FlowDequeueResult extends DequeueResult {
  /** Queues a limit held back in this dequeue. */
  held?: FlowHold[];
  /** Queues of this dequeue that have limits, held back or not (a finished task of theirs frees a slot). */
  limited?: string[];
}

/** The capability. Every method validates its input and throws `ValidationError` on bad limits. */
export interface FlowControl {
  /**
   * Sets the queue's limits; a field left out keeps its current value, `null` clears it. Takes effect at
   * the next dequeue of every server (servers waiting on the queue are woken).
   */
  setFlowLimits(queue: string, limits: FlowLimitsUpdate): Promise<void>;
  /** Removes every limit and pause of the queue. */
  clearFlowLimits(queue: string): Promise<void>;
  /** The queue's limits and usage; `limits` is empty when it has none. */
  flowState(queue: string): Promise<FlowState>;
  /**
   * Stops every server taking tasks of the queue for `duration` ms (a handler was told to come back
   * later); with `flowKey`, only the tasks of that flow key (the others go on).
   */
  pauseFlow(queue: string, duration: number, flowKey?: string): Promise<void>;
  /** Wakes servers waiting on the queue: a task of a limited queue finished, so a slot is free. */
  announceFlowSlot(queue: string): Promise<void>;
}

/** An update to a queue's limits: `undefined` keeps the current value, `null` removes it. */
export interface FlowLimitsUpdate {
  concurrency?: number | null;
  rate?: FlowRate | null;
  /** The limits of each flow key (same rules); `null` removes both, releasing every parked task. */
  perKey?: FlowKeyLimitsUpdate | null;
}

/** An update to the per-key limits: `undefined` keeps the current value, `null` removes it. */
export interface FlowKeyLimitsUpdate {
  concurrency?: number | null;
  rate?: FlowRate | null;
}

/** True when `broker` has the flow control capability. */
export function hasFlowControl<T extends object>(broker: T): broker is T & FlowControl {
  const candidate = broker as Partial<FlowControl>;
  return (
    typeof candidate.setFlowLimits === 'function' &&
    typeof candidate.flowState === 'function' &&
    typeof candidate.pauseFlow === 'function' &&
    typeof candidate.announceFlowSlot === 'function' &&
    typeof candidate.clearFlowLimits === 'function'
  );
}

function positiveInteger(value: unknown, path: string, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ValidationError(`${path} must be a whole number of ${what}, 1 or more, got ${String(value)}.`, [
      { path, message: 'not a positive integer' },
    ]);
  }
  return value;
}

/**
 * Checks a limits update before it reaches the store; throws `ValidationError` saying what to change.
 * Concurrency and the rate's limit are whole numbers from 1; the rate's period whole milliseconds from 1.
 */
export function assertFlowLimitsUpdate(update: FlowLimitsUpdate, path = 'limits'): void {
  assertLimitsObject(update, path);
  assertKnownKeys(update, ['concurrency', 'rate', 'perKey'], path);
  assertLimitFields(update, path);
  if (update.perKey !== undefined && update.perKey !== null) {
    assertLimitsObject(update.perKey, `${path}.perKey`);
    assertKnownKeys(update.perKey, ['concurrency', 'rate'], `${path}.perKey`);
    assertLimitFields(update.perKey, `${path}.perKey`);
  }
}

function assertLimitsObject(update: unknown, path: string): void {
  if (typeof update !== 'object' || update === null) {
    throw new ValidationError(`${path} must be an object such as { concurrency: 5 }.`, [
      { path, message: 'not an object' },
    ]);
  }
}

function assertLimitFields(update: FlowKeyLimitsUpdate, path: string): void {
  if (update.concurrency !== undefined && update.concurrency !== null) {
    positiveInteger(update.concurrency, `${path}.concurrency`, 'tasks');
  }
  if (update.rate !== undefined && update.rate !== null) {
    if (typeof update.rate !== 'object') {
      throw new ValidationError(`${path}.rate must be { limit, period } or null.`, [
        { path: `${path}.rate`, message: 'not an object' },
      ]);
    }
    assertKnownKeys(update.rate, ['limit', 'period'], `${path}.rate`);
    positiveInteger(update.rate.limit, `${path}.rate.limit`, 'tasks');
    positiveInteger(update.rate.period, `${path}.rate.period`, 'milliseconds');
  }
}

/** What a flow key may be: the same rule as a queue name (it becomes part of Redis key names). */
export const flowKeyRule = queueNameRule.replace(/queue name/g, 'flow key');

/**
 * Throws a `ValidationError` unless `flowKey` is a usable flow key: 1 to 256 characters, no surrounding
 * whitespace, no '{', '}' or control character (the rule of queue names). Returns it unchanged.
 */
export function assertFlowKey(flowKey: unknown, path = 'flowKey'): string {
  const problem = queueNameProblem(flowKey);
  if (problem !== undefined) {
    const shown = typeof flowKey === 'string' ? JSON.stringify(flowKey) : `(${typeof flowKey})`;
    throw new ValidationError(`${path} ${shown} ${problem}: ${flowKeyRule}.`, [{ path, message: problem }]);
  }
  return flowKey as string;
}

/**
 * The message header that carries a task's flow key (set by the `flowKey` enqueue option), so that a
 * handler can read it and a broker can store it beside the task.
 */
export const flowKeyHeader = 'q-flow-key';
