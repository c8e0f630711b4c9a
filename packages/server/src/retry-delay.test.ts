import { describe, expect, it } from 'vitest';
import type { Task } from './handler';
import { computeRetryDelay, defaultRetryDelay, retryAt } from './retry-delay';

const task = { id: 't' } as Task;
const logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

describe('defaultRetryDelay', () => {
  it("follows Asynq's formula n^4 + 15 + random(0..29) * (n + 1) seconds", () => {
    for (const retried of [0, 1, 3, 10]) {
      for (let sample = 0; sample < 200; sample += 1) {
        const seconds = defaultRetryDelay(retried) / 1000;
        expect(Number.isInteger(seconds)).toBe(true);
        expect(seconds).toBeGreaterThanOrEqual(retried ** 4 + 15);
        expect(seconds).toBeLessThanOrEqual(retried ** 4 + 15 + 29 * (retried + 1));
      }
    }
  });
});

describe('computeRetryDelay', () => {
  it('accepts milliseconds and duration strings', () => {
    const error = new Error('x');
    expect(computeRetryDelay({ retryDelay: () => 250, retried: 0, error, task, logger })).toBe(250);
    expect(computeRetryDelay({ retryDelay: () => '2s', retried: 0, error, task, logger })).toBe(2000);
  });

  it('falls back to the default when the option throws or returns nonsense', () => {
    const error = new Error('x');
    for (const retryDelay of [
      () => -1,
      () => 'soon',
      () => {
        throw new Error('bug');
      },
    ]) {
      const delay = computeRetryDelay({ retryDelay, retried: 0, error, task, logger });
      expect(delay).toBeGreaterThanOrEqual(15_000);
    }
  });
});

describe('retryAt', () => {
  it('rounds up to the whole second Redis stores, so a retry never comes early', () => {
    expect(retryAt(1_700_000_000_200, 1000)).toBe(1_700_000_002_000);
    expect(retryAt(1_700_000_000_000, 1000)).toBe(1_700_000_001_000);
  });
});
