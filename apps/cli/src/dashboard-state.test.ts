import { describe, expect, it } from 'vitest';
import {
  applyKey,
  emptyDashboardData,
  initialDashboardState,
  parseKeys,
  type DashboardData,
} from './dashboard-state';
import type { QueueInfo } from '@q/inspector';

function queueInfo(queue: string, counts: Partial<QueueInfo>): QueueInfo {
  return {
    queue,
    memoryUsage: 0,
    latency: 0,
    size: 0,
    groups: 0,
    pending: 0,
    active: 0,
    scheduled: 0,
    retry: 0,
    archived: 0,
    completed: 0,
    aggregating: 0,
    processedToday: 0,
    failedToday: 0,
    processedTotal: 0,
    failedTotal: 0,
    paused: false,
    timestamp: new Date(0),
    ...counts,
  };
}

const data: DashboardData = {
  ...emptyDashboardData(),
  queues: [queueInfo('critical', { retry: 2 }), queueInfo('default', { pending: 1 })],
};

describe('dashboard keys', () => {
  it('reads arrows, vi keys, Enter, Escape and Ctrl-C from raw terminal input', () => {
    expect(parseKeys('\x1b[A\x1b[Bjk\r\x1b\x03')).toEqual([
      'up',
      'down',
      'down',
      'up',
      'enter',
      'back',
      'quit',
    ]);
    expect(parseKeys('\x1b[6~\x1b[5~\x1b[15~q')).toEqual(['next-page', 'previous-page', 'quit']);
  });

  it('goes from queues to a queue on its first tab with tasks, to a task, and back', () => {
    let state = initialDashboardState();
    state = applyKey(state, 'down', data);
    expect(state.queueIndex).toBe(1);
    state = applyKey(state, 'up', data);
    state = applyKey(state, 'enter', data);
    expect(state).toMatchObject({ view: 'tasks', queue: 'critical', stateIndex: 4 });
    state = applyKey(state, 'right', data);
    expect(state.stateIndex).toBe(5);
    const withTasks: DashboardData = { ...data, tasks: [{ id: 'a' }, { id: 'b' }] as DashboardData['tasks'] };
    state = applyKey(state, 'down', withTasks);
    state = applyKey(state, 'enter', withTasks);
    expect(state).toMatchObject({ view: 'task', taskId: 'b' });
    state = applyKey(state, 'back', withTasks);
    expect(state).toMatchObject({ view: 'tasks', taskIndex: 1 });
    state = applyKey(state, 'back', withTasks);
    expect(state.view).toBe('queues');
    expect(applyKey(state, 'quit', data).quit).toBe(true);
  });
});
