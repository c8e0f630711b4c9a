/**
 * Go's duration syntax, both ways: `@every 1h30m` specs are parsed the way Go's `time.ParseDuration` reads
 * them, and published option strings (`Timeout(1m0s)`) are written the way Go's `Duration.String` writes
 * them, so that Asynq's CLI and web UI show what a Go scheduler would.
 */
import { ValidationError } from '@q/core';

const nanosecondsPerUnit: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n, // U+00B5 micro sign
  μs: 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const partPattern = /(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * Parses a Go duration such as `30s`, `1h30m` or `1.5h` into milliseconds. Throws a `ValidationError`
 * naming `path` when the text is not one; negative durations are refused.
 */
export function parseGoDuration(text: string, path = 'duration'): number {
  const trimmed = text.trim();
  const fail = (reason: string): never => {
    throw new ValidationError(
      `${path} "${text}" is not a Go duration (${reason}); write it as Go does, e.g. "30s", "5m", "1h30m" or "1.5h".`,
      [{ path, message: reason }],
    );
  };
  if (trimmed === '0') return 0;
  if (trimmed === '') fail('empty');
  if (trimmed.startsWith('-')) fail('negative');
  const body = trimmed.startsWith('+') ? trimmed.slice(1) : trimmed;
  let totalNanoseconds = 0n;
  let fractionalNanoseconds = 0;
  let position = 0;
  partPattern.lastIndex = 0;
  while (position < body.length) {
    partPattern.lastIndex = position;
    const match = partPattern.exec(body);
    if (!match) fail(`unexpected "${body.slice(position)}"`);
    const [, whole = '', fraction, unit = ''] = match!;
    if (whole === '' && (fraction === undefined || fraction === '')) fail('a number is missing');
    const perUnit = nanosecondsPerUnit[unit]!;
    totalNanoseconds += BigInt(whole || '0') * perUnit;
    if (fraction) fractionalNanoseconds += Number(`0.${fraction}`) * Number(perUnit);
    position = partPattern.lastIndex;
  }
  return Number(totalNanoseconds) / 1e6 + fractionalNanoseconds / 1e6;
}

/** Writes `milliseconds` as Go's `time.Duration.String()` does: `0s`, `500ms`, `1.5s`, `1m30s`, `1h0m0s`. */
export function formatGoDuration(milliseconds: number): string {
  let nanoseconds = BigInt(Math.round(milliseconds * 1e6));
  const negative = nanoseconds < 0n;
  if (negative) nanoseconds = -nanoseconds;
  const sign = negative ? '-' : '';
  if (nanoseconds === 0n) return '0s';
  if (nanoseconds < 1_000n) return `${sign}${nanoseconds}ns`;
  if (nanoseconds < 1_000_000n) return `${sign}${withFraction(nanoseconds, 3)}µs`;
  if (nanoseconds < 1_000_000_000n) return `${sign}${withFraction(nanoseconds, 6)}ms`;
  const seconds = withFraction(nanoseconds % 60_000_000_000n, 9);
  const totalMinutes = nanoseconds / 60_000_000_000n;
  if (totalMinutes === 0n) return `${sign}${seconds}s`;
  const hours = totalMinutes / 60n;
  const minutes = totalMinutes % 60n;
  return hours === 0n ? `${sign}${minutes}m${seconds}s` : `${sign}${hours}h${minutes}m${seconds}s`;
}

/** `value / 10^digits` with the fraction's trailing zeros (and a bare point) left out, like Go's fmtFrac. */
function withFraction(value: bigint, digits: number): string {
  const scale = 10n ** BigInt(digits);
  const fraction = (value % scale).toString().padStart(digits, '0').replace(/0+$/, '');
  const whole = (value / scale).toString();
  return fraction === '' ? whole : `${whole}.${fraction}`;
}
