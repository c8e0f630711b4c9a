import type { TaskInfo } from '@q/core';
import { describe, expect, it } from 'vitest';
import { emptyDashboardData, initialDashboardState, taskListKey } from './dashboard-state';
import { renderDashboard } from './dashboard-view';

// eslint-disable-next-line no-control-regex
const plain = (lines: string[]): string[] => lines.map((line) => line.replace(/\x1b\[[0-9;]*m/g, ''));
const heading = { target: 'redis://127.0.0.1:6379 (prefix asynq)', refreshEvery: 2000 };

describe('renderDashboard', () => {
  it('fills the screen exactly and never draws past its width', () => {
    const lines = plain(
      renderDashboard(
        initialDashboardState(),
        { ...emptyDashboardData(), fetchedAt: 1 },
        { columns: 30, rows: 10 },
        heading,
      ),
    );
    expect(lines).toHaveLength(10);
    expect(lines.every((line) => [...line].length <= 30)).toBe(true);
    expect(lines[3]).toBe('No queues.');
    expect(lines[9]).toMatch(/^Up\/Down select/);
  });

  it('shows the state tabs with counts and marks the selected task', () => {
    const state = { ...initialDashboardState(), view: 'tasks' as const, queue: 'default', stateIndex: 4 };
    const task = {
      id: 'r-1',
      type: 'email',
      payload: new Uint8Array(0),
      retried: 2,
      maxRetry: 5,
      lastError: 'boom',
      headers: {},
    } as unknown as TaskInfo;
    const lines = plain(
      renderDashboard(
        state,
        { ...emptyDashboardData(), tasks: [task], tasksFor: taskListKey(state), fetchedAt: 0 },
        { columns: 120, rows: 14 },
        heading,
      ),
    );
    expect(lines.join('\n')).toContain('[retry ?]');
    expect(lines.find((line) => line.startsWith('> '))).toMatch(/> r-1\s+email\s+.*2\/5\s+boom/);
  });
});
