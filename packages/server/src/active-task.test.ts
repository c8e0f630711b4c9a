import { emptyTaskMessage } from '@q/core/internal';
import { describe, expect, it, vi } from 'vitest';
import { AttemptContext, createActiveTask, signalOf } from './active-task';
import { TaskAbortedError } from './task-aborted-error';

function entry() {
  const message = {
    ...emptyTaskMessage(),
    id: 't1',
    type: 'email:send',
    queue: 'critical',
    retried: 2,
    maxRetry: 5,
  };
  return createActiveTask(
    { message, leaseExpiresAt: 50_000, leaseToken: 'token-1' },
    { at: 1_700_000_000_000, cause: 'timeout' },
    1000,
  );
}

describe('AttemptContext', () => {
  it('carries the attempt’s facts and makes its signal and deadline only when read', () => {
    const task = entry();
    const writeResult = vi.fn(() => Promise.resolve());
    const context = new AttemptContext(task, writeResult);
    expect(context).toMatchObject({ taskId: 't1', retryCount: 2, maxRetry: 5, queue: 'critical' });
    expect(task.controller).toBeUndefined();
    expect(context.deadline).toEqual(new Date(1_700_000_000_000));
    expect(context.deadline).toBe(context.deadline);
    const signal = context.signal;
    expect(task.controller?.signal).toBe(signal);
    expect(context.signal).toBe(signal);
    expect(signal.aborted).toBe(false);
    const bytes = new Uint8Array([1]);
    void context.writeResult(bytes);
    expect(writeResult).toHaveBeenCalledWith(task, bytes);
    expect(task.fence).toEqual({ token: 'token-1' });
  });

  it('gives a signal read after the abort already aborted, with the reason', () => {
    const task = entry();
    const reason = new TaskAbortedError('cancel');
    task.abortReason = reason;
    task.abortedAt = 2000;
    const signal = signalOf(task);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
  });
});
