/**
 * A queue's flow limits as the inspector takes and shows them: a rate is written `N/DURATION`
 * (`'50/s'`, `'100/1s'`, `'1000/5m'`), a period in milliseconds otherwise.
 */
import {
  toMilliseconds,
  ValidationError,
  type FlowKeyLimitsUpdate,
  type FlowKeyState,
  type FlowLimitsUpdate,
  type FlowRate,
  type FlowState,
} from '@q/core';

/** What `Inspector.setQueueLimits` takes: `undefined` keeps a limit, `null` removes it. */
export interface QueueLimitsInput {
  /** Tasks of the queue running at once across every server. */
  concurrency?: number | null;
  /** Tasks started per period across every server: `'50/s'`, `'100/1s'`, or `{ limit, period }` (ms). */
  rate?: string | FlowRate | null;
  /**
   * Limits for each flow key of the queue on its own (tasks enqueued with `flowKey`), same forms; `null`
   * removes both and releases every parked task.
   */
  perKey?: QueueKeyLimitsInput | null;
}

/** The per-key part of `QueueLimitsInput`: `undefined` keeps a limit, `null` removes it. */
export interface QueueKeyLimitsInput {
  /** Tasks of one flow key running at once across every server. */
  concurrency?: number | null;
  /** Tasks of one flow key started per period: `'5/s'` or `{ limit, period }` (ms). */
  rate?: string | FlowRate | null;
}

/** The per-key limits and where the keys with waiting tasks stand (`QueueLimitsInfo.perKey`). */
export interface QueueKeyLimitsInfo {
  concurrency?: number;
  rate?: FlowRate;
  /** Tasks waiting aside because their key is at its limit (counted in the queue's pending tasks). */
  parked: number;
  /** How many flow keys have parked tasks. */
  parkedKeys: number;
  /** The keys with parked tasks, those with the most first (at most 10). */
  keys: FlowKeyState[];
}

/** A queue's limits and where it stands against them (`Inspector.getQueueLimits`, `QueueInfo.limits`). */
export interface QueueLimitsInfo {
  concurrency?: number;
  rate?: FlowRate;
  /** Tasks of the queue leased now, on every server. */
  running: number;
  /** Tasks started in the rate's current window. */
  startedInWindow: number;
  /** Until when a handler's `RateLimitedError` holds the queue back. */
  pausedUntil?: Date;
  /** The store's clock when read. */
  timestamp: Date;
  /** Present when the queue has per-key limits (or tasks they parked). */
  perKey?: QueueKeyLimitsInfo;
}

const ratePattern = /^\s*(\d+)\s*\/\s*(.+?)\s*$/;

/** Parses `N/DURATION`; a bare unit counts one of it (`'50/s'` is `'50/1s'`). */
export function parseFlowRate(text: string, path = 'rate'): FlowRate {
  const match = ratePattern.exec(text);
  const problem = (): ValidationError =>
    new ValidationError(
      `${path} must be N/DURATION with N a whole number from 1, such as '50/s', '100/1s' or '1000/5m'; got '${text}'.`,
      [{ path, message: 'not N/DURATION' }],
    );
  if (!match) throw problem();
  const limit = Number(match[1]);
  const periodText = /^(ms|s|m|h|d)$/.test(match[2]!) ? `1${match[2]!}` : match[2]!;
  let period: number;
  try {
    period = toMilliseconds(periodText, `${path} period`);
  } catch {
    throw problem();
  }
  if (limit < 1 || !Number.isInteger(period) || period < 1) throw problem();
  return { limit, period };
}

/** `{ limit: 50, period: 1000 }` as `50/1s`. */
export function describeFlowRate(rate: FlowRate): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  for (const [unit, size] of units) {
    if (rate.period % size === 0) return `${rate.limit}/${rate.period / size}${unit}`;
  }
  return `${rate.limit}/${rate.period}ms`;
}

export function toFlowLimitsUpdate(input: QueueLimitsInput): FlowLimitsUpdate {
  const update: FlowLimitsUpdate = toLimitsUpdate(input, 'limits', ['concurrency', 'rate', 'perKey']);
  if ('perKey' in input) {
    update.perKey =
      input.perKey === null || input.perKey === undefined
        ? null
        : toLimitsUpdate(input.perKey, 'limits.perKey', ['concurrency', 'rate']);
  }
  return update;
}

function toLimitsUpdate(
  input: QueueKeyLimitsInput,
  path: string,
  accepted: readonly string[],
): FlowKeyLimitsUpdate {
  if (typeof input !== 'object' || input === null) {
    throw new ValidationError(`${path} must be an object such as { concurrency: 5, rate: '50/s' }.`, [
      { path, message: 'not an object' },
    ]);
  }
  const update: FlowKeyLimitsUpdate = {};
  if ('concurrency' in input) update.concurrency = input.concurrency ?? null;
  if ('rate' in input) {
    update.rate =
      input.rate === null || input.rate === undefined
        ? null
        : typeof input.rate === 'string'
          ? parseFlowRate(input.rate, `${path}.rate`)
          : input.rate;
  }
  for (const key of Object.keys(input)) {
    if (!accepted.includes(key)) {
      const names = `${accepted.slice(0, -1).join(', ')} and ${accepted.at(-1)!}`;
      throw new ValidationError(`Unknown limit "${key}"; the accepted ones are ${names}.`, [
        { path: `${path}.${key}`, message: 'unknown option' },
      ]);
    }
  }
  return update;
}

export function toQueueLimitsInfo(state: FlowState): QueueLimitsInfo {
  const info: QueueLimitsInfo = {
    running: state.running,
    startedInWindow: state.startedInWindow,
    timestamp: new Date(state.timestamp),
  };
  if (state.limits.concurrency !== undefined) info.concurrency = state.limits.concurrency;
  if (state.limits.rate !== undefined) info.rate = { ...state.limits.rate };
  if (state.pausedUntil !== undefined) info.pausedUntil = new Date(state.pausedUntil);
  if (state.perKey !== undefined) {
    const perKey: QueueKeyLimitsInfo = {
      parked: state.perKey.parked,
      parkedKeys: state.perKey.parkedKeys,
      keys: state.perKey.keys.map((key) => ({ ...key })),
    };
    if (state.limits.perKey?.concurrency !== undefined) perKey.concurrency = state.limits.perKey.concurrency;
    if (state.limits.perKey?.rate !== undefined) perKey.rate = { ...state.limits.perKey.rate };
    info.perKey = perKey;
  }
  return info;
}

/** True when the queue has a limit or a pause. */
export function hasQueueLimits(info: QueueLimitsInfo): boolean {
  return (
    info.concurrency !== undefined ||
    info.rate !== undefined ||
    info.pausedUntil !== undefined ||
    info.perKey !== undefined
  );
}
