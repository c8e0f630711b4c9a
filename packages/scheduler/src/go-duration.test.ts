import { ValidationError } from '@q/core';
import { describe, expect, it } from 'vitest';
import { formatGoDuration, parseGoDuration } from './go-duration';

describe('formatGoDuration', () => {
  it.each([
    [0, '0s'],
    [0.000_5, '500ns'],
    [0.0015, '1.5µs'],
    [1, '1ms'],
    [1.5, '1.5ms'],
    [500, '500ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [30_000, '30s'],
    [60_000, '1m0s'],
    [90_000, '1m30s'],
    [1_800_000, '30m0s'],
    [3_600_000, '1h0m0s'],
    [5_400_500, '1h30m0.5s'],
    [86_400_000, '24h0m0s'],
    [365 * 86_400_000, '8760h0m0s'],
    [-90_000, '-1m30s'],
  ])('writes %s ms as Go does: %s', (milliseconds, text) => {
    expect(formatGoDuration(milliseconds)).toBe(text);
  });
});

describe('parseGoDuration', () => {
  it.each([
    ['0', 0],
    ['30s', 30_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['500ms', 500],
    ['2m3.5s', 123_500],
    ['1000us', 1],
    ['1000µs', 1],
    ['+5s', 5000],
    [' 10m ', 600_000],
  ])('reads %s', (text, milliseconds) => {
    expect(parseGoDuration(text)).toBeCloseTo(milliseconds, 6);
  });

  it.each(['', '5', 's', '1d', '-5s', '5 s', '1h 30m', 'abc'])(
    'refuses %j with a ValidationError',
    (text) => {
      expect(() => parseGoDuration(text, 'spec')).toThrow(ValidationError);
    },
  );

  it('round-trips with formatGoDuration', () => {
    for (const text of ['1h0m0s', '1m30s', '1.5s', '250ms', '26h3m4.005s']) {
      expect(formatGoDuration(parseGoDuration(text))).toBe(text);
    }
  });
});
