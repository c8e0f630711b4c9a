import { describe, expect, it } from 'vitest';
import { toMilliseconds } from './duration';
import { ValidationError } from './errors';

describe('toMilliseconds', () => {
  it('passes numbers through as milliseconds', () => {
    expect(toMilliseconds(1500)).toBe(1500);
    expect(toMilliseconds(0)).toBe(0);
  });

  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['250', 250],
  ])('parses %s', (text, expected) => {
    expect(toMilliseconds(text)).toBe(expected);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('rejects the number %s', (value) => {
    expect(() => toMilliseconds(value, 'options.timeout')).toThrow(ValidationError);
  });

  it.each(['', '-5s', '10 minutes', 'abc', '5w', '1h 30m'])('rejects %j and names the option', (text) => {
    expect(() => toMilliseconds(text, 'options.timeout')).toThrow(/options\.timeout/);
  });
});
