import { describe, expect, it } from 'vitest';
import { describeFindingAction } from './describe-finding-action';

describe('describeFindingAction', () => {
  it('gives the q command that does the action', () => {
    expect(describeFindingAction({ kind: 'resume-queue', queue: 'held' })).toBe(
      'Resume the queue when it should run again: q queue resume held',
    );
    expect(describeFindingAction({ kind: 'cancel-tasks', taskIds: ['a', 'b'] })).toBe(
      'Cancel the stuck tasks: q task cancel a b',
    );
    expect(describeFindingAction({ kind: 'run-all-tasks', queue: 'mail', state: 'archived' })).toBe(
      'Run them now: q task runall --queue mail --state archived',
    );
  });

  it('names the signal, the pid and the host it must be sent on', () => {
    const server = { pid: 42, host: 'box', server: 'box:42:s1' };
    expect(describeFindingAction({ kind: 'send-signal', signal: 'SIGCONT', ...server })).toBe(
      'Resume server box:42 with SIGCONT (kill -CONT 42 on box) or server.resume().',
    );
    expect(describeFindingAction({ kind: 'send-signal', signal: 'SIGKILL', ...server })).toMatch(
      /^Kill server box:42 \(kill -KILL 42 on box\)/,
    );
  });

  it('says what is particular to Redis where the finding only names the store', () => {
    expect(describeFindingAction({ kind: 'stop-store-eviction', policy: 'allkeys-lru' })).toMatch(
      /CONFIG SET maxmemory-policy noeviction/,
    );
    expect(describeFindingAction({ kind: 'check-store-address' })).toMatch(/--uri, --db and --prefix/);
  });

  it('gives the q queue limit command for a backlog held by flow limits', () => {
    expect(describeFindingAction({ kind: 'change-queue-limits', queue: 'api', limit: 'rate' })).toMatch(
      /q queue limit api --rate N\/DURATION$/,
    );
    expect(
      describeFindingAction({ kind: 'change-queue-limits', queue: 'api', limit: 'concurrency' }),
    ).toMatch(/q queue limit api --concurrency N$/);
    expect(describeFindingAction({ kind: 'clear-queue-limits', queue: 'api' })).toMatch(
      /q queue limit api --clear$/,
    );
    expect(describeFindingAction({ kind: 'none', reason: 'pause-ends-on-its-own' })).toMatch(
      /RateLimitedError\), and the pause ends by itself/,
    );
  });
});
