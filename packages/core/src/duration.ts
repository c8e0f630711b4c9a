import { ValidationError } from './errors';

/** Milliseconds as a number, or a string such as `'500ms'`, `'30s'`, `'5m'`, `'1h'`, `'2d'` (also `'1h30m'`). */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}` | (string & {});

const unitMilliseconds: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const partPattern = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

/**
 * Converts a duration to milliseconds. Throws a `ValidationError` naming `name` when the value is not a
 * finite, non-negative number or a well-formed duration string.
 */
export function toMilliseconds(value: Duration, name = 'duration'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw new ValidationError(
        `${name} must be a non-negative number of milliseconds, got ${String(value)}.`,
        [{ path: name, message: 'negative or not finite' }],
      );
    }
    return value;
  }
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ValidationError(
      `${name} must be milliseconds or a string such as '30s', got ${JSON.stringify(value)}.`,
      [{ path: name, message: 'not a duration' }],
    );
  }
  const text = value.trim();
  if (/^-/.test(text)) {
    throw new ValidationError(`${name} must not be negative, got '${text}'.`, [
      { path: name, message: 'negative' },
    ]);
  }
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  let total = 0;
  partPattern.lastIndex = 0;
  let consumed = 0;
  for (let match = partPattern.exec(text); match; match = partPattern.exec(text)) {
    total += Number(match[1]) * (unitMilliseconds[match[2]!] ?? 0);
    consumed = partPattern.lastIndex;
  }
  if (consumed !== text.length) {
    throw new ValidationError(
      `${name} '${text}' is not a duration; use milliseconds or a string such as '500ms', '30s', '5m', '1h', '2d' or '1h30m'.`,
      [{ path: name, message: 'not a duration' }],
    );
  }
  return total;
}

/**
 * Milliseconds as the whole seconds Asynq's wire holds, rounded up, so that a timeout, a deadline or a
 * retention is never shorter or earlier than asked: `1500` and `1999` become 2, `500` becomes 1, `2000`
 * stays 2. Go Asynq truncates instead; rounding up keeps the promise "not before what you gave".
 */
export function toWholeSecondsUp(milliseconds: number): number {
  return Math.ceil(milliseconds / 1000);
}
