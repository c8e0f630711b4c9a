import { describe, expect, it } from 'vitest';
import {
  BatchAbortedError,
  DuplicateTaskError,
  QError,
  TaskIdConflictError,
  ValidationError,
} from './errors';

describe('QError', () => {
  it('carries a stable code and the cause', () => {
    const cause = new Error('root');
    const error = new ValidationError('bad', [{ path: 'queue', message: 'blank' }], { cause });
    expect(error.code).toBe('Q_VALIDATION');
    expect(error.cause).toBe(cause);
    expect(error.name).toBe('ValidationError');
    expect(error.issues).toEqual([{ path: 'queue', message: 'blank' }]);
  });

  it('matches instanceof by code, so a copy from another package version still matches', () => {
    const foreign = Object.assign(new Error('dup'), {
      code: 'Q_DUPLICATE_TASK',
      [Symbol.for('@q/error')]: true,
    });
    expect(foreign instanceof DuplicateTaskError).toBe(true);
    expect(foreign instanceof QError).toBe(true);
    expect(foreign instanceof TaskIdConflictError).toBe(false);
    expect(new Error('plain') instanceof QError).toBe(false);
    expect(QError.is(new TaskIdConflictError('q', 'id'))).toBe(true);
  });

  it('says what to do', () => {
    expect(new TaskIdConflictError('default', 'abc').message).toMatch(/choose another taskId/);
  });

  it("names the task that aborted an atomic batch by its index in the caller's array", () => {
    const cause = new TaskIdConflictError('default', 'taken');
    const error = new BatchAbortedError(2, 'tasks', { cause });
    expect(error).toBeInstanceOf(BatchAbortedError);
    expect(error).not.toBeInstanceOf(ValidationError);
    expect(error.code).toBe('Q_BATCH_ABORTED');
    expect(error.index).toBe(2);
    expect(error.abortedBy).toBe('tasks[2]');
    expect(error.cause).toBe(cause);
    expect(error.message).toBe(
      `Not enqueued: the atomic batch was aborted by tasks[2] (${cause.message.slice(0, -1)}); nothing of the batch was written. Fix or remove tasks[2] and enqueue the batch again.`,
    );
  });
});
