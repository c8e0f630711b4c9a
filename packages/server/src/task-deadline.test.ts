import { emptyTaskMessage } from '@q/core/internal';
import { describe, expect, it } from 'vitest';
import { computeTaskDeadline } from './task-deadline';

const message = (timeoutSeconds: number, deadlineUnixSeconds: number) => ({
  ...emptyTaskMessage(),
  timeoutSeconds,
  deadlineUnixSeconds,
});

describe('computeTaskDeadline', () => {
  const now = 1_700_000_000_500;

  it('uses 30 minutes when the task has neither timeout nor deadline', () => {
    expect(computeTaskDeadline(message(0, 0), now)).toEqual({ at: now + 1_800_000, cause: 'timeout' });
  });

  it('uses the timeout at full precision when it is the only limit', () => {
    expect(computeTaskDeadline(message(10, 0), now)).toEqual({ at: now + 10_000, cause: 'timeout' });
  });

  it('uses the deadline when it is the only limit', () => {
    expect(computeTaskDeadline(message(0, 1_700_000_100), now)).toEqual({
      at: 1_700_000_100_000,
      cause: 'deadline',
    });
  });

  it('takes the earlier of both, with the timeout counted from the start to the millisecond', () => {
    expect(computeTaskDeadline(message(10, 1_700_000_005), now)).toEqual({
      at: 1_700_000_005_000,
      cause: 'deadline',
    });
    // Asynq would floor the start to 1_700_000_000 and end this attempt 500 ms before its 3 s timeout.
    expect(computeTaskDeadline(message(3, 1_700_000_005), now)).toEqual({
      at: now + 3000,
      cause: 'timeout',
    });
  });

  it('gives a task started late in a second its whole timeout when it also has a deadline', () => {
    const lateInSecond = 1_700_000_000_999;
    // Asynq: floor(start) + 1 s = 1_700_000_001_000, one millisecond after the start.
    expect(computeTaskDeadline(message(1, 1_700_000_060), lateInSecond)).toEqual({
      at: lateInSecond + 1000,
      cause: 'timeout',
    });
  });
});
