import { describe, expect, it } from 'vitest';
import { DuplicateTaskError, QError, TaskIdConflictError, ValidationError } from './errors';

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
});
