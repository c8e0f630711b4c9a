import { silentLogger } from '@q/core';
import { emptyTaskMessage } from '@q/core/internal';
import { describe, expect, it } from 'vitest';
import type { Task } from './handler';
import { decideFailure } from './outcome-policy';
import { RevokeTask } from './revoke-task';
import { SkipRetry } from './skip-retry';

const now = 1_700_000_000_000;
const task = { id: 't' } as Task;
const options = { retryDelay: () => 5000, isFailure: () => true };

function attempt(error: Error, retried = 0, maxRetry = 3) {
  return { error, task, message: { ...emptyTaskMessage(), id: 't', retried, maxRetry }, now };
}

describe('decideFailure', () => {
  it('retries after the retry delay while retries remain, counted as a failure', () => {
    expect(decideFailure(attempt(new Error('smtp down')), options, silentLogger)).toEqual({
      kind: 'retry',
      errorMessage: 'smtp down',
      processAt: now + 5000,
      delay: 5000,
      isFailure: true,
    });
  });

  it('archives once the retries are spent, or when the handler skips retrying', () => {
    expect(decideFailure(attempt(new Error('still down'), 3, 3), options, silentLogger)).toMatchObject({
      kind: 'archive',
      why: 'retries exhausted (3/3)',
    });
    expect(decideFailure(attempt(new SkipRetry('bad address')), options, silentLogger)).toMatchObject({
      kind: 'archive',
      why: 'retry skipped',
    });
  });

  it('deletes a revoked task', () => {
    expect(decideFailure(attempt(new RevokeTask('not wanted')), options, silentLogger)).toEqual({
      kind: 'revoke',
    });
  });

  it('does not count the attempt when isFailure says no, and counts it when isFailure throws', () => {
    const notFailure = { ...options, isFailure: () => false };
    expect(decideFailure(attempt(new Error('rate limited')), notFailure, silentLogger)).toMatchObject({
      kind: 'retry',
      isFailure: false,
    });
    const lines: string[] = [];
    const logger = {
      ...silentLogger,
      error: (_fields: unknown, message?: string) => lines.push(String(message)),
    };
    const throwing = {
      ...options,
      isFailure: () => {
        throw new Error('predicate bug');
      },
    };
    expect(decideFailure(attempt(new Error('x')), throwing, logger)).toMatchObject({ isFailure: true });
    expect(lines).toEqual(['the isFailure option threw; counting the error as a failure']);
  });
});
