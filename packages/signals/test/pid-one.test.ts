/**
 * S7: the worker as PID 1 of its own PID namespace (`unshare --pid --fork`), as in a container without
 * an init. There a signal with no handler is ignored, so only explicit handlers make TERM work. Pass:
 * the same as S1. Skipped, with a message, where creating a PID namespace is not permitted.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, inject, it } from 'vitest';
import { checkGracefulTerm } from './graceful-term-scenario';

function pidNamespacesPermitted(): boolean {
  const probe = spawnSync('unshare', ['--pid', '--fork', '--kill-child', 'true'], { stdio: 'ignore' });
  return probe.status === 0;
}

/** The worker is the child of `unshare`; signals go to it, as a container runtime sends them to PID 1. */
function unshareChild(child: ChildProcess): number {
  const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/);
  const pid = Number(children[0]);
  if (!Number.isInteger(pid) || pid <= 0)
    throw new Error(`unshare (pid ${child.pid}) has no child process yet`);
  return pid;
}

const permitted = process.platform === 'linux' && pidNamespacesPermitted();
if (!permitted) {
  process.stdout.write('[skip] S7: creating a PID namespace (unshare --pid --fork) is not permitted here\n');
}

describe('the worker as PID 1', () => {
  it.runIf(permitted)(
    'S7: SIGTERM to PID 1 behaves as S1: no dequeue after it, all 50 complete, exit 0 within 3 s',
    async () => {
      await checkGracefulTerm('S7', inject('redisUrl'), {
        wrapCommand: (command) => ['unshare', '--pid', '--fork', '--kill-child', ...command],
        signalTarget: unshareChild,
        expectedPid: 1,
      });
    },
  );
});
