/**
 * Conversions between the contract's Unix milliseconds and the units Asynq stores: whole Unix seconds
 * (scores, message times), Unix nanoseconds (`pending_since`) and UTC dates (daily counter keys).
 */

/** Whole Unix seconds, truncated as Go's `time.Unix()` does. */
export function toUnixSeconds(milliseconds: number): number {
  return Math.floor(milliseconds / 1000);
}

/** Unix nanoseconds as decimal text (they exceed `Number.MAX_SAFE_INTEGER`). */
export function toUnixNanoseconds(milliseconds: number): string {
  return (BigInt(Math.floor(milliseconds)) * 1_000_000n).toString();
}

/** Milliseconds from Unix nanoseconds given as decimal text; 0 for anything else. */
export function fromUnixNanoseconds(nanoseconds: string): number {
  if (!/^\d+$/.test(nanoseconds)) return 0;
  return Number(BigInt(nanoseconds) / 1_000_000n);
}

let lastDay = Number.NaN;
let lastDate = '';

/**
 * `YYYY-MM-DD` in UTC, the date in Asynq's daily counter keys. Every finished task names today's
 * counter, so the last day's text is kept rather than formatted again.
 */
export function toUtcDate(milliseconds: number): string {
  const day = Math.floor(milliseconds / dayMilliseconds);
  if (day !== lastDay) {
    lastDate = new Date(milliseconds).toISOString().slice(0, 10);
    lastDay = day;
  }
  return lastDate;
}

/** Whole seconds of a duration, at least `minimum`, for TTL arguments that Redis requires to be integers. */
export function toWholeSeconds(milliseconds: number, minimum = 1): number {
  return Math.max(minimum, Math.floor(milliseconds / 1000));
}

export const dayMilliseconds = 24 * 60 * 60 * 1000;
