/**
 * `q dash` in a real terminal: tmux runs the built command in a detached session of a fixed size, the
 * test types keys with `send-keys` and reads the screen with `capture-pane`. Each run has its own tmux
 * server socket, so no user session is touched.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRedisBroker } from '@q/broker-redis';
import { Client } from '@q/client';
import type { Broker } from '@q/core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildCli, cliBinary } from './built-cli';
import { populateEveryState } from './populate-redis';

const hasTmux = spawnSync('sh', ['-c', 'command -v tmux'], { encoding: 'utf8' }).stdout.trim() !== '';
const socket = `q-dash-${randomUUID().slice(0, 8)}`;
const prefix = `dash-${randomUUID().slice(0, 8)}`;
let broker: Broker;

const tmux = (...args: string[]): string =>
  execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const screen = (): string => tmux('capture-pane', '-p', '-t', 'dash');
const press = (...keys: string[]): void => void tmux('send-keys', '-t', 'dash', ...keys);

async function waitForScreen(pattern: RegExp, timeout = 10_000): Promise<string> {
  const deadline = Date.now() + timeout;
  let last = '';
  while (Date.now() < deadline) {
    last = screen();
    if (pattern.test(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`The screen never showed ${String(pattern)}; it shows:\n${last}`);
}

// CI must have tmux (apt-get install tmux); elsewhere the test is skipped with a note when it is missing.
describe.skipIf(!hasTmux && !process.env.CI)('q dash in a terminal', () => {
  beforeAll(async () => {
    const url = inject('redisUrl');
    broker = createRedisBroker({ url, prefix });
    await Promise.all([
      buildCli(),
      populateEveryState(broker, 'orders'),
      populateEveryState(broker, 'billing'),
    ]);
    const now = Date.now();
    await broker.writeServerState(
      {
        host: 'worker-host',
        pid: 99,
        serverId: 'server-1',
        concurrency: 4,
        queues: { orders: 1, billing: 1 },
        strictPriority: false,
        status: 'active',
        startedAt: now,
        activeWorkerCount: 0,
        lifecycle: { state: 'running', stateSince: now, lastFetchAt: now },
      },
      [],
      60_000,
    );
    const command = [
      process.execPath,
      cliBinary,
      '--uri',
      url,
      '--prefix',
      prefix,
      'dash',
      '--refresh',
      '500ms',
    ]
      .map((part) => `'${part}'`)
      .join(' ');
    tmux('new-session', '-d', '-s', 'dash', '-x', '150', '-y', '30', command);
  });

  afterAll(async () => {
    spawnSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
    await broker?.close();
  });

  it('navigates from queues to a queue’s tasks by state to one task, refreshes, and quits', async () => {
    let shown = await waitForScreen(/> billing .*\n {2}orders /);
    expect(shown).toMatch(
      // Under Q_TEST_ACL=1 the URL carries the test user, its password masked.
      /^q dash {2}redis:\/\/(q-test:\*\*\*@)?127\.0\.0\.1:\d+ \(prefix dash-\w+\) {2}refreshed \d\d:\d\d:\d\dZ, every 500ms/,
    );
    expect(shown).toMatch(/Servers: 1 \(1 running\), workers 0\/4 busy/);
    expect(shown).toMatch(
      /Queue +State +Size +Latency +Active +Pending +Aggregating +Scheduled +Retry +Archived +Completed/,
    );
    expect(shown).toMatch(/ {2}orders +run +9 +\S+ +1 +2 +2 +1 +1 +1 +1/);
    expect(shown).toMatch(/Up\/Down select {2}Enter open/);

    press('Down');
    await waitForScreen(/> orders /);
    press('Enter');
    // Each view draws at once ("Reading...") and fills in when Redis answers: wait for the content.
    await waitForScreen(
      /Queue orders\n\[active 1\] +pending 2 +aggregating 2 +scheduled 1 +retry 1 +archived 1 +completed 1\n[\s\S]*> a-1 +email:send/,
    );

    press('Right', 'Right', 'Right', 'Right');
    await waitForScreen(/\[retry 1\]/);
    shown = await waitForScreen(
      /> r-1 +email:send +\{"to":"r-1@example.com"\} +in 59m \d+s +1\/3 +smtp: connection reset/,
    );

    press('Enter');
    shown = await waitForScreen(/Task r-1\n[\s\S]*State: +retry/);
    expect(shown).toMatch(/Last error: +smtp: connection reset/);
    expect(shown).toMatch(/Esc back/);

    press('Escape');
    await waitForScreen(/\[retry 1\]/);
    press('Left', 'Left', 'Left');
    await waitForScreen(/\[pending 2\]/);
    await new Client({ broker }).enqueue('email:send', { late: true }, { queue: 'orders', taskId: 'p-new' });
    shown = await waitForScreen(/\[pending 3\][\s\S]*p-new/);

    press('Escape');
    await waitForScreen(/> orders +run +10 /);
    press('q');
    const deadline = Date.now() + 5000;
    while (spawnSync('tmux', ['-L', socket, 'has-session', '-t', 'dash'], { stdio: 'ignore' }).status === 0) {
      if (Date.now() > deadline) throw new Error(`q dash did not quit on "q":\n${screen()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
});
