import { BrokerUnavailableError, QueueNotFoundError, ValidationError } from '@q/core';
import { describe, expect, it } from 'vitest';
import { describeError } from './describe-error';
import { exitCodes } from './exit-codes';

const context = { secrets: ['hunter2'], connection: { displayUrl: 'redis://:***@h:1' } };

describe('describeError', () => {
  it('says that Redis cannot be reached, where, and what to check, with exit code 3', () => {
    const error = new BrokerUnavailableError('ping failed', {
      cause: new Error('connect ECONNREFUSED 127.0.0.1:1'),
    });
    const described = describeError(error, context);
    expect(described.exitCode).toBe(exitCodes.unreachable);
    expect(described.message).toMatch(
      /^Cannot reach Redis at redis:\/\/:\*\*\*@h:1: connect ECONNREFUSED 127.0.0.1:1\. Check --uri/,
    );
  });

  it('tells refused credentials apart, and never prints the password', () => {
    const described = describeError(new Error('WRONGPASS invalid username-password pair (hunter2)'), context);
    expect(described.exitCode).toBe(exitCodes.unreachable);
    expect(described.message).toMatch(/refused the credentials/);
    expect(described.message).not.toContain('hunter2');
  });

  it('maps @q errors: validation is a usage error, the rest a failure', () => {
    expect(describeError(new ValidationError('bad'), context).exitCode).toBe(exitCodes.usage);
    const notFound = describeError(new QueueNotFoundError('x'), context);
    expect(notFound).toEqual({
      exitCode: exitCodes.failure,
      message: expect.stringMatching(/Queue "x" does not exist/) as string,
    });
  });
});
