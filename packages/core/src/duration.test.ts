import { describe, expect, it } from 'vitest';
import { toMilliseconds, toWholeSecondsUp } from './duration';
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

describe('toWholeSecondsUp', () => {
  it.each([
    [0, 0],
    [1, 1],
    [500, 1],
    [1000, 1],
    [1001, 2],
    [1500, 2],
    [1999, 2],
    [2000, 2],
    [toMilliseconds('1.5s'), 2],
    [1_700_000_006_653, 1_700_000_007],
    [1_700_000_006_000, 1_700_000_006],
  ])('rounds %d ms up to %d s, never below what was given', (milliseconds, seconds) => {
    expect(toWholeSecondsUp(milliseconds)).toBe(seconds);
    expect(seconds * 1000).toBeGreaterThanOrEqual(milliseconds);
  });
});
