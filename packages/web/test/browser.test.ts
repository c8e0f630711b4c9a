/**
 * The dashboard in a real browser (Debian's chromium through playwright-core) over a real Redis holding
 * tasks in every state written by @q and by Go Asynq, and a real @q worker made quiet by a real SIGTSTP:
 * every page opens without console errors (a screenshot of each is written to test-results/), actions
 * change Redis as they say, read-only mode refuses them, an HTML payload stays text, a quiet server is
 * shown quiet with its signal, and the pages update without reloading.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@q/client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { findChromium, launchBrowser, openPage, screenshot, type WatchedPage } from './browser';
import { populatedStore, serveDashboard, type Served, type Store } from './dashboard';
import { largePayloadSize, ours, xssError, xssPayload } from './populate';
import type { WorkerConfig } from './worker-process';

const here = dirname(fileURLToPath(import.meta.url));
const repositoryRoot = resolve(here, '../../..');

// CI must have chromium (.ci/run installs it); elsewhere these tests are skipped with a note when it is missing.
const skipped = findChromium() === undefined && !process.env.CI;
const inChromium = describe.skipIf(skipped);
if (skipped) {
  process.stderr.write(
    "@q/web browser tests skipped: install Debian's chromium (sudo apt-get install chromium).\n",
  );
}

let store: Store;
let dashboard: Served;
let browser: Browser;
let worker: ChildProcess;
let workerOutput = '';

/** Polls `check` until it returns something truthy; real processes and Redis take their time. */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    const workerGone = worker !== undefined && (worker.exitCode !== null || worker.signalCode !== null);
    if (Date.now() > deadline || workerGone)
      throw new Error(`Gave up waiting for ${what}.\nworker output:\n${workerOutput}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

beforeAll(async () => {
  if (skipped) return;
  store = await populatedStore('browser');
  const config: WorkerConfig = { redisUrl: inject('redisUrl'), prefix: store.prefix, queues: { work: 1 } };
  worker = spawn(
    process.execPath,
    ['--conditions=@q/source', '--import', 'tsx', resolve(here, 'worker-process.ts')],
    {
      cwd: repositoryRoot,
      env: { ...process.env, Q_WEB_TEST_WORKER: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  worker.stdout!.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
  worker.stderr!.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
  const client = new Client({ broker: store.broker });
  await client.enqueue('slow', { report: 'monthly' }, { queue: 'work', taskId: 'w-slow' });
  // The worker runs the slow task, then a real SIGTSTP makes it quiet.
  await eventually('the worker to run w-slow', async () => {
    const servers = await store.inspector.servers();
    return servers.find((server) => server.pid === worker.pid && server.activeWorkers.length === 1);
  });
  worker.kill('SIGTSTP');
  await eventually('the worker to publish that it is quiet', async () => {
    const servers = await store.inspector.servers();
    return servers.find((server) => server.pid === worker.pid && server.lifecycle?.state === 'quiet');
  });
  dashboard = await serveDashboard(store.inspector, { source: 'redis://127.0.0.1 (test)' });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (worker && worker.exitCode === null && worker.signalCode === null) {
    const exited = new Promise((done) => worker.once('exit', done));
    worker.kill('SIGKILL');
    await exited;
  }
  await dashboard?.close();
  await store?.close();
});

async function visit(path: string): Promise<WatchedPage> {
  const watched = await openPage(browser);
  await watched.page.goto(`${dashboard.url}${path}`);
  return watched;
}

inChromium('every page', () => {
  const pages: [name: string, path: string, ready: string][] = [
    ['queues', '/', 'table.grid tr[data-queue="emails"]'],
    ['queue', '/queues/emails?state=retry', 'tr[data-task="r-1"]'],
    ['queue-aggregating', '/queues/low?state=aggregating', 'tr[data-task="t-group-1"]'],
    ['task', '/queues/emails/tasks/c-1', '[data-testid="bytes-result"]'],
    ['task-go', '/queues/default/tasks/t-retry', '.last-error'],
    ['servers', '/servers', '.server-quiet'],
    ['schedulers', '/schedulers', 'tr[data-entry]'],
    ['redis', '/redis', 'dl.details'],
    ['doctor', '/doctor', '.finding'],
    ['search', '/search?id=t-group-2', 'tr[data-task="t-group-2"]'],
  ];

  for (const [name, path, ready] of pages) {
    it(`${name} (${path}) opens without console errors`, async () => {
      const { page, problems } = await visit(path);
      await page.waitForSelector(ready);
      if (name === 'schedulers') {
        await page.getByRole('button', { name: 'History' }).click();
        await page.waitForSelector('.history li');
      }
      if (name === 'queues' || name === 'queue') {
        // Two refreshes: the charts have points to draw.
        await page.waitForTimeout(4500);
      }
      await screenshot(page, name);
      expect(problems).toEqual([]);
      await page.context().close();
    });
  }
});

inChromium('what the pages show', () => {
  it('shows a Go Asynq task as it shows one of @q: type, payload as text, retries', async () => {
    const { page, problems } = await visit('/queues/default/tasks/t-pending');
    await expect(page.locator('dl.details').innerText()).resolves.toContain('email:send');
    await expect(page.locator('[data-testid="bytes-payload"] pre').innerText()).resolves.toContain(
      '"to": "a@example.com"',
    );
    await expect(page.locator('dl.details').innerText()).resolves.toMatch(/Retries\s+0 of 5/);
    const mine = await visit('/queues/emails/tasks/p-1');
    await expect(mine.page.locator('[data-testid="bytes-payload"] pre').innerText()).resolves.toContain(
      '"to": "p-1@example.com"',
    );
    expect([...problems, ...mine.problems]).toEqual([]);
    await page.context().close();
    await mine.page.context().close();
  });

  it('keeps an HTML payload and an HTML error as inert text', async () => {
    const { page, problems, dialogs } = await visit('/queues/emails/tasks/p-xss');
    const payload = page.locator('[data-testid="bytes-payload"] pre');
    await expect(payload.innerText()).resolves.toBe(xssPayload);
    expect(await page.locator('img').count()).toBe(0);
    await page.goto(`${dashboard.url}/queues/emails/tasks/x-1`);
    await expect(page.locator('.last-error pre').innerText()).resolves.toBe(xssError);
    await page.goto(`${dashboard.url}/queues/emails?state=pending`);
    await page.waitForSelector('tr[data-task="p-xss"]');
    await expect(page.locator('tr[data-task="p-xss"] .peek').innerText()).resolves.toBe(xssPayload);
    expect(await page.locator('img, main script').count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('cuts a large payload with a way to see it all, and shows binary payloads as hex', async () => {
    const { page, problems } = await visit('/queues/emails/tasks/p-large');
    const cut = page.locator('[data-testid="bytes-payload"] .cut');
    await expect(cut.innerText()).resolves.toContain('Showing the first 2.0 KiB of 98 KiB');
    expect((await page.locator('[data-testid="bytes-payload"] pre').innerText()).length).toBe(2048);
    await cut.getByRole('button', { name: 'Show all' }).click();
    await page.waitForSelector('[data-testid="bytes-payload"] .cut', { state: 'detached' });
    expect(
      (await page.locator('[data-testid="bytes-payload"] pre').innerText()).length,
    ).toBeGreaterThanOrEqual(largePayloadSize);
    await page.goto(`${dashboard.url}/queues/emails/tasks/p-binary`);
    await expect(page.locator('[data-testid="bytes-payload"] pre').innerText()).resolves.toContain(
      '00 01 02 ff fe 10 41 42',
    );
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('shows the quiet worker as quiet, since when, with the signal that made it so and its running task', async () => {
    const { page, problems } = await visit('/servers');
    const card = page.locator('.server-quiet');
    await card.waitFor();
    await expect(card.locator('.badge').first().innerText()).resolves.toBe('quiet');
    await expect(card.locator('.since').innerText()).resolves.toMatch(/^since .*ago|^since now/);
    await expect(card.locator('.last-signal').innerText()).resolves.toContain('SIGTSTP');
    await expect(card.locator('table').innerText()).resolves.toContain('w-slow');
    // The Go server of the fixtures has no lifecycle: its status is shown instead.
    await expect(page.locator('.server', { hasText: 'Go Asynq server' }).count()).resolves.toBe(1);
    const doctor = await visit('/doctor');
    await doctor.page.waitForSelector('[data-code="server-not-running"]');
    const quietFinding = await doctor.page.locator('[data-code="server-not-running"]').innerText();
    expect(quietFinding).toContain('quiet');
    // Its actions, in the dashboard's words: resume it, or shut it down.
    expect(quietFinding).toMatch(/Resume server .*SIGCONT.*kill -CONT/);
    expect([...problems, ...doctor.problems]).toEqual([]);
    await page.context().close();
    await doctor.page.context().close();
  });

  it('updates the queue figures without reloading', async () => {
    const { page, problems } = await visit('/');
    const pending = page.locator('tr[data-queue="live"]');
    await page.waitForSelector('tr[data-queue="emails"]');
    expect(await pending.count()).toBe(0);
    const client = new Client({ broker: store.broker });
    await client.enqueue('email:send', { to: 'live@example.com' }, { queue: 'live' });
    await pending.waitFor({ timeout: 10_000 });
    await expect(pending.locator('td').nth(4).innerText()).resolves.toBe('1');
    await client.enqueue('email:send', { to: 'live2@example.com' }, { queue: 'live' });
    await expect.poll(() => pending.locator('td').nth(4).innerText(), { timeout: 10_000 }).toBe('2');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('finds a task from the search box', async () => {
    const { page, problems } = await visit('/');
    await page.getByRole('searchbox', { name: 'Task id' }).fill('t-scheduled');
    await page.getByRole('searchbox', { name: 'Task id' }).press('Enter');
    await page.waitForSelector('tr[data-task="t-scheduled"]');
    await page.locator('tr[data-task="t-scheduled"] a').first().click();
    await page.waitForSelector('dl.details');
    expect(page.url()).toBe(`${dashboard.url}/queues/critical/tasks/t-scheduled`);
    await expect(page.locator('dl.details').innerText()).resolves.toContain('report:build');
    expect(problems).toEqual([]);
    await page.context().close();
  });
});

inChromium('actions from the page', () => {
  it('pauses and resumes a queue', async () => {
    const { page, problems } = await visit('/queues/emails');
    await page.getByRole('button', { name: 'Pause' }).click();
    await eventually(
      'emails to be paused',
      async () => (await store.inspector.getQueueInfo('emails')).paused,
    );
    await page.getByRole('button', { name: 'Resume' }).click();
    await eventually(
      'emails to be resumed',
      async () => !(await store.inspector.getQueueInfo('emails')).paused,
    );
    // The notice of the pause may still show until the answer to the resume arrives.
    await expect.poll(() => page.locator('.notice').innerText()).toBe('Queue emails resumed.');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('runs a scheduled task, archives a pending one, deletes one after asking', async () => {
    const { page, problems, dialogs } = await visit('/queues/emails/tasks/s-1');
    await page.getByRole('button', { name: 'Run now' }).click();
    await eventually(
      's-1 to be pending',
      async () => (await store.inspector.getTaskInfo('emails', 's-1')).state === 'pending',
    );
    await page.goto(`${dashboard.url}/queues/emails?state=pending`);
    await page.locator('tr[data-task="p-2"]').getByRole('button', { name: 'Archive' }).click();
    await eventually(
      'p-2 to be archived',
      async () => (await store.inspector.getTaskInfo('emails', 'p-2')).state === 'archived',
    );
    await page.locator('tr[data-task="p-1"]').getByRole('button', { name: 'Delete' }).click();
    await eventually('p-1 to be deleted', async () =>
      store.inspector.getTaskInfo('emails', 'p-1').then(
        () => false,
        () => true,
      ),
    );
    expect(dialogs).toEqual(['confirm: Delete task p-1?']);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('runs every retry task of a queue and deletes every archived one', async () => {
    const { page, problems } = await visit('/queues/emails?state=retry');
    await page.getByRole('button', { name: 'Run all retry' }).click();
    await eventually(
      'no retry task left',
      async () => (await store.inspector.getQueueInfo('emails')).retry === 0,
    );
    await page.goto(`${dashboard.url}/queues/emails?state=archived`);
    await page.getByRole('button', { name: 'Delete all archived' }).click();
    await eventually(
      'no archived task left',
      async () => (await store.inspector.getQueueInfo('emails')).archived === 0,
    );
    await expect.poll(() => page.locator('.notice').innerText()).toMatch(/^\d+ archived tasks? deleted\.$/);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('cancels the task the quiet worker is running: its handler is aborted and the task leaves active', async () => {
    const { page, problems } = await visit('/queues/work/tasks/w-slow');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect(page.locator('.notice').innerText()).resolves.toContain(
      'Asked the server running task w-slow to cancel it',
    );
    const after = await eventually('w-slow to leave active', async () => {
      const task = await store.inspector.getTaskInfo('work', 'w-slow');
      return task.state === 'active' ? undefined : task;
    });
    expect(after.state).toBe('retry');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('archives the tasks picked with their checkboxes', async () => {
    const { page, problems } = await visit('/queues/emails?state=pending');
    await page.getByRole('checkbox', { name: 'Select task p-large' }).check();
    await page.getByRole('checkbox', { name: 'Select task p-binary' }).check();
    await page.getByRole('button', { name: 'Archive selected' }).click();
    await expect(page.locator('.notice').innerText()).resolves.toBe('2 tasks archived.');
    expect((await store.inspector.getTaskInfo('emails', 'p-large')).state).toBe('archived');
    expect((await store.inspector.getTaskInfo('emails', 'p-binary')).state).toBe('archived');
    expect((await store.inspector.getTaskInfo('emails', 'p-xss')).state).toBe('pending');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('refuses actions in read-only mode: no buttons, and the API says no', async () => {
    const readOnly = await serveDashboard(store.inspector, { readOnly: true });
    const { page, problems } = await openPage(browser);
    try {
      await page.goto(`${readOnly.url}/queues/emails?state=pending`);
      await page.waitForSelector(`tr[data-task="${ours.pending[2]}"]`);
      await expect(page.locator('.badge.read-only').innerText()).resolves.toBe('read-only');
      expect(
        await page.locator('main button', { hasText: /^(Pause|Run|Archive|Delete|Cancel)/ }).count(),
      ).toBe(0);
      // Even a request made by hand from the page, with its token, is refused.
      const status = await page.evaluate<number>(`(async () => {
        const config = JSON.parse(document.getElementById('q-config').textContent);
        const response = await fetch('/api/queues/emails/pause', {
          method: 'POST',
          headers: { 'x-q-csrf': config.csrfToken },
        });
        return response.status;
      })()`);
      expect(status).toBe(403);
      expect((await store.inspector.getQueueInfo('emails')).paused).toBe(false);
      expect(problems.filter((problem) => !problem.includes('403'))).toEqual([]);
    } finally {
      await page.context().close();
      await readOnly.close();
    }
  });
});
