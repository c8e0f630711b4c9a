import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '@q/core';
import { ServerMonitor, type ServerMonitorOptions } from './server-monitor';
import type { ServerLikeState } from './server-like';

function recordingLogger(): Logger & { warnings: string[]; infos: string[] } {
  const warnings: string[] = [];
  const infos: string[] = [];
  const message = (fields: unknown, text?: string): string =>
    typeof fields === 'string' ? fields : (text ?? '');
  return {
    warnings,
    infos,
    debug: () => undefined,
    info: (fields: unknown, text?: string) => infos.push(message(fields, text)),
    warn: (fields: unknown, text?: string) => warnings.push(message(fields, text)),
    error: (fields: unknown, text?: string) => warnings.push(message(fields, text)),
  };
}

function setup(overrides: Partial<ServerMonitorOptions> = {}) {
  const server = {
    state: 'running' as ServerLikeState,
    lastFetchAt: Date.now() as number | undefined,
    pending: 0,
    pendingTaskCount(): Promise<number> {
      return Promise.resolve(this.pending);
    },
  };
  let stateSince = Date.now();
  const logger = recordingLogger();
  const monitor = new ServerMonitor({
    server,
    logger,
    checkInterval: 1000,
    quietWarningAfter: 60_000,
    fetchStaleAfter: 30_000,
    stateSince: () => stateSince,
    ...overrides,
  });
  const enterState = (state: ServerLikeState): void => {
    server.state = state;
    stateSince = Date.now();
  };
  return { server, logger, monitor, enterState };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ServerMonitor', () => {
  it('warns when quiet lasts longer than quietWarningAfter while tasks are pending, and repeats', async () => {
    const { server, logger, monitor, enterState } = setup();
    monitor.start();
    enterState('quiet');
    server.pending = 12;
    await vi.advanceTimersByTimeAsync(59_000);
    expect(logger.warnings).toEqual([]);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(logger.warnings).toEqual([
      expect.stringMatching(/quiet for 6\d s and 12 tasks are pending.*SIGCONT/),
    ]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(logger.warnings).toHaveLength(2);
    monitor.stop();
  });

  it('says nothing about a long quiet when no task is waiting', async () => {
    const { logger, monitor, enterState } = setup();
    monitor.start();
    enterState('quiet');
    await vi.advanceTimersByTimeAsync(180_000);
    expect(logger.warnings).toEqual([]);
    monitor.stop();
  });

  it('reports a stuck fetch loop once, and its recovery once', async () => {
    const { server, logger, monitor } = setup();
    monitor.start();
    await vi.advanceTimersByTimeAsync(35_000);
    expect(logger.warnings).toEqual([expect.stringMatching(/fetch loop has not run/)]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(logger.warnings).toHaveLength(1);
    server.lastFetchAt = Date.now();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(logger.infos).toEqual([expect.stringMatching(/fetch loop is running again/)]);
    monitor.stop();
  });
});
