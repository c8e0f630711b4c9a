import { describe, expect, it } from 'vitest';
import { toError } from './error-chain';
import { RevokeTask } from './revoke-task';
import { SkipRetry } from './skip-retry';

describe('toError', () => {
  it('keeps errors and explains anything else that was thrown', () => {
    const error = new Error('boom');
    expect(toError(error)).toBe(error);
    expect(toError('oops').message).toBe(
      'the handler threw a non-Error value (string): "oops"; throw an Error instead',
    );
    expect(toError(undefined).message).toMatch(/non-Error value \(undefined\)/);
    expect(toError(42).message).toMatch(/\(number\): 42/);
    expect(toError({ code: 7 }).message).toMatch(/\{"code":7\}/);
    expect(toError({ message: 'shaped like an error' }).message).toBe('shaped like an error');
  });
});

describe('SkipRetry and RevokeTask', () => {
  it('are found through the cause chain, as Go finds wrapped errors', () => {
    const wrapped = new Error('outer', { cause: new Error('middle', { cause: new SkipRetry('bad input') }) });
    expect(SkipRetry.is(wrapped)).toBe(true);
    expect(RevokeTask.is(wrapped)).toBe(false);
    expect(RevokeTask.is(new RevokeTask())).toBe(true);
    expect(new SkipRetry().message).toBe('skip retry for the task');
  });

  it('are recognised across copies of the package', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('@q/skip-retry')]: true });
    expect(SkipRetry.is(foreign)).toBe(true);
  });
});
