import { emptyTaskMessage } from '@q/core';
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

  it('takes the earlier of both, in whole seconds, as Asynq does', () => {
    expect(computeTaskDeadline(message(10, 1_700_000_005), now)).toEqual({
      at: 1_700_000_005_000,
      cause: 'deadline',
    });
    expect(computeTaskDeadline(message(3, 1_700_000_005), now)).toEqual({
      at: 1_700_000_003_000,
      cause: 'timeout',
    });
  });
});
