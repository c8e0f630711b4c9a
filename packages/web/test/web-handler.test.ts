/**
 * The handler over a real Redis holding tasks in every state (by @q and by Go Asynq): mounted in plain
 * `node:http` and in Hono, its pages, assets and API; actions change Redis as they say; cross-site and
 * read-only requests are refused; auth; secrets never shown.
 */
import { createServer } from 'node:http';
import { serve } from '@hono/node-server';
import express from 'express';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import { ValidationError } from '@q/core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {
  ActionResponse,
  DashboardConfig,
  DoctorResponse,
  QueueResponse,
  QueuesResponse,
  SearchResponse,
  TaskDetail,
  TasksResponse,
} from '../src/api-types';
import { createWebHandler, toNodeListener } from '../src/index';
import { closeServer, listen, populatedStore, serveDashboard, type Served, type Store } from './dashboard';
import { largePayloadSize, ours, xssError, xssPayload } from './populate';

let store: Store;
let dashboard: Served;

beforeAll(async () => {
  store = await populatedStore('api');
  dashboard = await serveDashboard(store.inspector);
});

afterAll(async () => {
  await dashboard?.close();
  await store?.close();
});

async function getJson<T>(base: string, path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(`${base}${path}`, init);
  expect(response.status, `${path}: ${await response.clone().text()}`).toBe(200);
  return (await response.json()) as T;
}

function configOf(html: string): DashboardConfig {
  const json = /<script id="q-config" type="application\/json">(.*?)<\/script>/s.exec(html)?.[1];
  if (!json) throw new Error(`no config in the page:\n${html}`);
  return JSON.parse(json) as DashboardConfig;
}

async function csrfToken(base: string, path = '/'): Promise<string> {
  return configOf(await (await fetch(`${base}${path}`)).text()).csrfToken;
}

describe('mounted in node:http', () => {
  it('serves the page shell for every page path, with its bundled script and stylesheet and a strict CSP', async () => {
    for (const path of [
      '/',
      '/queues/emails',
      '/queues/emails/tasks/p-1',
      '/servers',
      '/doctor',
      '/search?id=x',
    ]) {
      const response = await fetch(`${dashboard.url}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(response.headers.get('x-frame-options')).toBe('DENY');
    }
    const html = await (await fetch(dashboard.url)).text();
    const script = /<script defer src="([^"]+)"/.exec(html)?.[1];
    const stylesheet = /<link rel="stylesheet" href="([^"]+)"/.exec(html)?.[1];
    expect(script).toMatch(/^\/assets\/app\.[0-9a-f]{16}\.js$/);
    const js = await fetch(`${dashboard.url}${script}`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toContain('immutable');
    // Preact and uPlot are in the bundle: nothing is fetched from elsewhere.
    const code = await js.text();
    expect(code.length).toBeGreaterThan(50_000);
    expect(code).not.toMatch(/https?:\/\/(cdn|unpkg|jsdelivr)/);
    const css = await fetch(`${dashboard.url}${stylesheet}`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await css.text()).toContain('.uplot');
    expect(configOf(html)).toMatchObject({ basePath: '', readOnly: false, refreshInterval: 2000 });
  });

  it('lists the queues written by @q and by Go Asynq with their sizes by state', async () => {
    const { queues } = await getJson<QueuesResponse>(dashboard.url, '/api/queues');
    expect(queues.map((queue) => queue.queue)).toEqual(['critical', 'default', 'emails', 'low']);
    const emails = queues.find((queue) => queue.queue === 'emails')!;
    expect(emails).toMatchObject({
      active: 1,
      pending: ours.pending.length,
      scheduled: 1,
      retry: 1,
      archived: 1,
      completed: 1,
      aggregating: 2,
      paused: false,
    });
    const low = queues.find((queue) => queue.queue === 'low')!;
    expect(low.aggregating).toBe(2);
    const { groups } = await getJson<QueueResponse>(dashboard.url, '/api/queues/low');
    expect(groups).toEqual([{ group: 'user42', size: 2 }]);
  });

  it("shows a queue's flow limits, and none for a queue without", async () => {
    await store.inspector.setQueueLimits('critical', { concurrency: 4, rate: '10/s' });
    try {
      const { queue } = await getJson<QueueResponse>(dashboard.url, '/api/queues/critical');
      expect(queue.limits).toEqual({
        concurrency: 4,
        rate: { limit: 10, period: 1000 },
        running: 0,
        startedInWindow: 0,
      });
      const { queue: emails } = await getJson<QueueResponse>(dashboard.url, '/api/queues/emails');
      expect(emails.limits).toBeUndefined();
      await store.inspector.setQueueLimits('critical', { perKey: { concurrency: 2 } });
      const { queue: perKey } = await getJson<QueueResponse>(dashboard.url, '/api/queues/critical');
      expect(perKey.limits?.perKey).toEqual({ concurrency: 2, parked: 0, parkedKeys: 0, keys: [] });
    } finally {
      await store.inspector.clearQueueLimits('critical');
    }
  });

  it('pages through the tasks of a state, aggregating ones by group', async () => {
    const first = await getJson<TasksResponse>(
      dashboard.url,
      '/api/queues/emails/tasks?state=pending&pageSize=2',
    );
    const second = await getJson<TasksResponse>(
      dashboard.url,
      '/api/queues/emails/tasks?state=pending&pageSize=2&page=2',
    );
    expect(first.total).toBe(ours.pending.length);
    expect(first.tasks.map((task) => task.id)).toEqual(['p-1', 'p-2']);
    expect(second.tasks.map((task) => task.id)).toEqual(['p-xss', 'p-large']);
    const grouped = await getJson<TasksResponse>(
      dashboard.url,
      '/api/queues/low/tasks?state=aggregating&group=user42',
    );
    expect(grouped.tasks.map((task) => task.id).sort()).toEqual(['t-group-1', 't-group-2']);
    const missingGroup = await fetch(`${dashboard.url}/api/queues/low/tasks?state=aggregating`);
    expect(missingGroup.status).toBe(400);
    expect(((await missingGroup.json()) as { error: string }).error).toContain('group=');
  });

  it("shows a Go Asynq task as it shows @q's: type, payload as text, retries, timeout, last error", async () => {
    const { task: go } = await getJson<{ task: TaskDetail }>(
      dashboard.url,
      '/api/queues/default/tasks/t-pending',
    );
    expect(go).toMatchObject({
      id: 't-pending',
      type: 'email:send',
      state: 'pending',
      maxRetry: 5,
      timeout: 90_000,
      retention: 7_200_000,
      payload: { isText: true, text: '{"to":"a@example.com"}', size: 22, shown: 22 },
    });
    const { task: retry } = await getJson<{ task: TaskDetail }>(
      dashboard.url,
      '/api/queues/default/tasks/t-retry',
    );
    expect(retry.state).toBe('retry');
    expect(retry.retried).toBe(1);
    expect(retry.lastError).toContain('asynq-probe');
    const { task: mine } = await getJson<{ task: TaskDetail }>(dashboard.url, '/api/queues/emails/tasks/p-1');
    expect(mine.payload).toMatchObject({ isText: true, text: '{"to":"p-1@example.com"}' });
    const { task: archived } = await getJson<{ task: TaskDetail }>(
      dashboard.url,
      '/api/queues/emails/tasks/x-1',
    );
    expect(archived.lastError).toBe(xssError);
  });

  it('cuts a large payload, shows it all on request, and offers the raw bytes as a download', async () => {
    const cut = await getJson<{ task: TaskDetail }>(dashboard.url, '/api/queues/emails/tasks/p-large');
    expect(cut.task.payload.size).toBe(largePayloadSize);
    expect(cut.task.payload.shown).toBe(2048);
    expect(cut.task.payload.text).toHaveLength(2048);
    const full = await getJson<{ task: TaskDetail }>(
      dashboard.url,
      '/api/queues/emails/tasks/p-large?full=1',
    );
    expect(full.task.payload.shown).toBe(largePayloadSize);
    const download = await fetch(`${dashboard.url}/api/queues/emails/tasks/p-large/payload`);
    expect(download.headers.get('content-type')).toBe('application/octet-stream');
    expect(download.headers.get('content-disposition')).toBe('attachment; filename="p-large.payload"');
    expect((await download.arrayBuffer()).byteLength).toBe(largePayloadSize);
    const binary = await getJson<{ task: TaskDetail }>(dashboard.url, '/api/queues/emails/tasks/p-binary');
    expect(binary.task.payload.isText).toBe(false);
    expect(binary.task.payload.hex).toContain('00 01 02 ff fe 10 41 42');
  });

  it('returns HTML payloads as data, for the page to show as text', async () => {
    const { task } = await getJson<{ task: TaskDetail }>(dashboard.url, '/api/queues/emails/tasks/p-xss');
    expect(task.payload.text).toBe(xssPayload);
    const download = await fetch(`${dashboard.url}/api/queues/emails/tasks/p-xss/payload`);
    // Never served as a page: a browser downloads it.
    expect(download.headers.get('content-type')).toBe('application/octet-stream');
    expect(download.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('finds a task by id in every queue', async () => {
    const found = await getJson<SearchResponse>(dashboard.url, '/api/search?id=t-group-2');
    expect(found.matches.map((task) => [task.queue, task.state])).toEqual([['low', 'aggregating']]);
    const none = await getJson<SearchResponse>(dashboard.url, '/api/search?id=no-such-task');
    expect(none.matches).toEqual([]);
  });

  it('lists servers (the Go one without a lifecycle), scheduler entries with their history, Redis facts and doctor findings', async () => {
    const { servers } = await getJson<{
      servers: { host: string; state: string; lifecycle?: unknown; activeWorkers: { taskId: string }[] }[];
    }>(dashboard.url, '/api/servers');
    expect(servers).toHaveLength(1);
    expect(servers[0]).toMatchObject({ host: 'vm', state: 'running' });
    expect(servers[0]!.lifecycle).toBeUndefined();
    expect(servers[0]!.activeWorkers.map((worker) => worker.taskId)).toEqual(['t-active']);
    const { entries } = await getJson<{ entries: { id: string; spec: string; taskType: string }[] }>(
      dashboard.url,
      '/api/schedulers',
    );
    expect(entries).toMatchObject([{ spec: '@every 2s', taskType: 'cron:tick' }]);
    const history = await getJson<{ events: { taskId: string }[] }>(
      dashboard.url,
      `/api/schedulers/${entries[0]!.id}/history`,
    );
    expect(history.events.length).toBeGreaterThan(0);
    const redis = await getJson<{ store: { version: string; mode: string } }>(dashboard.url, '/api/redis');
    expect(redis.store.version).toMatch(/^redis \d/);
    expect(redis.store.mode).toBe('standalone');
    const doctor = await getJson<DoctorResponse>(dashboard.url, '/api/doctor');
    // The Go server lists default, critical and low but not emails, which holds tasks.
    const unserved = doctor.findings.find((finding) => finding.code === 'queue-unserved');
    expect(unserved?.evidence.length).toBeGreaterThan(0);
    expect(unserved?.actions).toEqual([
      {
        kind: 'start-server',
        text: `Start a server with "emails" among its queues (new Server({ queues: { 'emails': 1 } })).`,
      },
    ]);
  });

  it('answers unknown routes and bad input with a status and a sentence', async () => {
    const missing = await fetch(`${dashboard.url}/api/queues/emails/tasks/nope`);
    expect(missing.status).toBe(404);
    const unknownQueue = await fetch(`${dashboard.url}/api/queues/nope`);
    expect(unknownQueue.status).toBe(404);
    expect(((await unknownQueue.json()) as { error: string }).error).toBe('No queue named "nope".');
    const badState = await fetch(`${dashboard.url}/api/queues/emails/tasks?state=done`);
    expect(badState.status).toBe(400);
    expect(((await badState.json()) as { error: string }).error).toContain('use active, pending');
    const route = await fetch(`${dashboard.url}/api/nothing`);
    expect(route.status).toBe(404);
  });
});

describe('actions', () => {
  let actions: Store;
  let served: Served;
  let token: string;

  beforeAll(async () => {
    actions = await populatedStore('actions', { go: false });
    served = await serveDashboard(actions.inspector);
    token = await csrfToken(served.url);
  });

  afterAll(async () => {
    await served?.close();
    await actions?.close();
  });

  const post = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${served.url}/api${path}`, { method: 'POST', headers: { 'x-q-csrf': token, ...headers } });

  it('refuses an action without the page token, or from another site, and changes nothing', async () => {
    const bare = await fetch(`${served.url}/api/queues/emails/pause`, { method: 'POST' });
    expect(bare.status).toBe(403);
    expect(((await bare.json()) as { code: string }).code).toBe('csrf');
    const wrong = await post('/queues/emails/pause', { 'x-q-csrf': 'forged' });
    expect(wrong.status).toBe(403);
    const crossSite = await post('/queues/emails/pause', { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    const viaGet = await fetch(`${served.url}/api/queues/emails/pause`);
    expect(viaGet.status).toBe(405);
    expect((await actions.inspector.getQueueInfo('emails')).paused).toBe(false);
  });

  it('pauses and resumes a queue', async () => {
    const paused = await post('/queues/emails/pause', { 'sec-fetch-site': 'same-origin' });
    expect(paused.status).toBe(200);
    expect(((await paused.json()) as ActionResponse).message).toBe('Queue emails paused.');
    expect((await actions.inspector.getQueueInfo('emails')).paused).toBe(true);
    expect((await post('/queues/emails/resume')).status).toBe(200);
    expect((await actions.inspector.getQueueInfo('emails')).paused).toBe(false);
  });

  it('runs, archives and deletes one task', async () => {
    expect((await post('/queues/emails/tasks/s-1/run')).status).toBe(200);
    expect((await actions.inspector.getTaskInfo('emails', 's-1')).state).toBe('pending');
    expect((await post('/queues/emails/tasks/p-1/archive')).status).toBe(200);
    expect((await actions.inspector.getTaskInfo('emails', 'p-1')).state).toBe('archived');
    expect((await post('/queues/emails/tasks/p-2/delete')).status).toBe(200);
    await expect(actions.inspector.getTaskInfo('emails', 'p-2')).rejects.toThrow(/not found/i);
    const activeDelete = await post('/queues/emails/tasks/a-1/delete');
    expect(activeDelete.status).toBe(409);
  });

  it('publishes a cancel request for an active task', async () => {
    const subscriber = new Redis(inject('redisAdminUrl'));
    try {
      const received = new Promise<string>((resolve) =>
        subscriber.on('message', (_channel, id: string) => resolve(id)),
      );
      await subscriber.subscribe(`${actions.prefix}:cancel`);
      expect((await post('/queues/emails/tasks/a-1/cancel')).status).toBe(200);
      expect(await received).toBe('a-1');
    } finally {
      subscriber.disconnect();
    }
  });

  it('deletes the selected tasks and says which could not be', async () => {
    const response = await fetch(`${served.url}/api/queues/emails/selected/delete`, {
      method: 'POST',
      headers: { 'x-q-csrf': token, 'content-type': 'application/json' },
      body: JSON.stringify({ ids: ['p-xss', 'p-binary', 'no-such-task'] }),
    });
    const result = (await response.json()) as ActionResponse;
    expect(result.count).toBe(2);
    expect(result.message).toMatch(/^2 tasks deleted\. Not done: no-such-task: /);
    await expect(actions.inspector.getTaskInfo('emails', 'p-xss')).rejects.toThrow(/not found/i);
    const empty = await fetch(`${served.url}/api/queues/emails/selected/run`, {
      method: 'POST',
      headers: { 'x-q-csrf': token, 'content-type': 'application/json' },
      body: JSON.stringify({ ids: [] }),
    });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: string }).error).toContain('{ "ids": ["…"] }');
  });

  it('runs, archives and deletes every task of a state', async () => {
    const run = await post('/queues/emails/run-all?state=retry');
    expect(((await run.json()) as ActionResponse).count).toBe(1);
    expect((await actions.inspector.getTaskInfo('emails', 'r-1')).state).toBe('pending');
    const archive = await post('/queues/emails/archive-all?state=aggregating&group=daily');
    expect(((await archive.json()) as ActionResponse).count).toBe(2);
    expect((await actions.inspector.getQueueInfo('emails')).aggregating).toBe(0);
    const before = (await actions.inspector.getQueueInfo('emails')).archived;
    const remove = await post('/queues/emails/delete-all?state=archived');
    expect(((await remove.json()) as ActionResponse).count).toBe(before);
    expect((await actions.inspector.getQueueInfo('emails')).archived).toBe(0);
  });
});

describe('read-only', () => {
  it('refuses every action even with the page token, and says so in the page config', async () => {
    const readOnly = await populatedStore('read-only', { go: false });
    const served = await serveDashboard(readOnly.inspector, { readOnly: true });
    try {
      const html = await (await fetch(served.url)).text();
      const config = configOf(html);
      expect(config.readOnly).toBe(true);
      for (const path of [
        '/queues/emails/pause',
        '/queues/emails/tasks/p-1/delete',
        '/queues/emails/delete-all?state=pending',
      ]) {
        const response = await fetch(`${served.url}/api${path}`, {
          method: 'POST',
          headers: { 'x-q-csrf': config.csrfToken },
        });
        expect(response.status).toBe(403);
        expect(((await response.json()) as { code: string }).code).toBe('read-only');
      }
      const info = await readOnly.inspector.getQueueInfo('emails');
      expect(info.paused).toBe(false);
      expect(info.pending).toBe(ours.pending.length);
      // Reading still works.
      expect((await fetch(`${served.url}/api/queues`)).status).toBe(200);
    } finally {
      await served.close();
      await readOnly.close();
    }
  });
});

describe('auth', () => {
  it('asks for basic auth and compares both halves', async () => {
    const served = await serveDashboard(store.inspector, { auth: { username: 'ops', password: 's3cret' } });
    const basic = (user: string, password: string) => ({
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    });
    try {
      const anonymous = await fetch(`${served.url}/api/queues`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toContain('Basic');
      expect((await fetch(`${served.url}/`, { headers: basic('ops', 'wrong') })).status).toBe(401);
      expect((await fetch(`${served.url}/`, { headers: basic('root', 's3cret') })).status).toBe(401);
      expect((await fetch(`${served.url}/api/queues`, { headers: basic('ops', 's3cret') })).status).toBe(200);
    } finally {
      await served.close();
    }
  });

  it('takes a token once in the address, then from an HttpOnly cookie, or as a bearer', async () => {
    const served = await serveDashboard(store.inspector, { auth: { token: 'tok-123' } });
    try {
      expect((await fetch(`${served.url}/`)).status).toBe(401);
      expect((await fetch(`${served.url}/?token=nope`)).status).toBe(401);
      const login = await fetch(`${served.url}/servers?token=tok-123`, { redirect: 'manual' });
      expect(login.status).toBe(303);
      expect(login.headers.get('location')).toBe('/servers');
      const cookie = login.headers.get('set-cookie')!;
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('SameSite=Strict');
      const withCookie = await fetch(`${served.url}/api/queues`, {
        headers: { cookie: cookie.split(';')[0]! },
      });
      expect(withCookie.status).toBe(200);
      const bearer = await fetch(`${served.url}/api/queues`, {
        headers: { authorization: 'Bearer tok-123' },
      });
      expect(bearer.status).toBe(200);
    } finally {
      await served.close();
    }
  });
});

describe('secrets and escaping', () => {
  it('never shows the Redis password: not in the page, nor in errors', async () => {
    const served = await serveDashboard(store.inspector, {
      source: 'redis://admin:hunter2@10.0.0.5:6379/0',
      secrets: ['hunter2'],
    });
    try {
      const html = await (await fetch(served.url)).text();
      expect(html).not.toContain('hunter2');
      expect(configOf(html).source).toBe('redis://admin:***@10.0.0.5:6379/0');
      const redis = await (await fetch(`${served.url}/api/redis`)).text();
      expect(redis).not.toContain('hunter2');
      expect(redis).toContain('redis://admin:***@10.0.0.5:6379/0');
    } finally {
      await served.close();
    }
  });

  it('escapes what it writes into the page', async () => {
    const served = await serveDashboard(store.inspector, { title: '</script><script>alert(1)</script>' });
    try {
      const html = await (await fetch(served.url)).text();
      expect(html).toContain('<title>&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>');
      expect(html).not.toContain('<script>alert(1)');
      expect(configOf(html).title).toBe('</script><script>alert(1)</script>');
    } finally {
      await served.close();
    }
  });

  it('answers only for the allowed host names when given them (DNS rebinding)', async () => {
    const handler = createWebHandler({
      inspector: store.inspector,
      allowedHosts: ['localhost', '127.0.0.1', '[::1]'],
    });
    for (const allowed of [
      'http://localhost:8080/',
      'http://127.0.0.1:8080/api/queues',
      'http://[::1]:8080/',
    ]) {
      expect((await handler(new Request(allowed))).status, allowed).toBe(200);
    }
    const rebound = await handler(new Request('http://attacker.example:8080/api/queues'));
    expect(rebound.status).toBe(403);
    expect(await rebound.text()).toContain('answers only for localhost, 127.0.0.1, [::1]');
    expect(() => createWebHandler({ inspector: store.inspector, allowedHosts: [] })).toThrow(
      /non-empty list/,
    );
  });

  it('rejects options it cannot use with a sentence that says what to change', () => {
    expect(() => createWebHandler({ inspector: store.inspector, basePath: 'dash' })).toThrow(ValidationError);
    expect(() => createWebHandler({ inspector: store.inspector, basePath: 'dash' })).toThrow(
      /starting with "\/"/,
    );
    expect(() =>
      createWebHandler({ inspector: store.inspector, auth: { username: 'a', password: '' } }),
    ).toThrow(/auth must be/);
    expect(() => createWebHandler({ inspector: store.inspector, refreshInterval: 0 })).toThrow(
      /positive whole number/,
    );
    expect(() => createWebHandler({ inspector: undefined as never })).toThrow(/new Inspector/);
    expect(() => createWebHandler({ inspector: store.inspector, readonly: true } as never)).toThrow(
      /Unknown web handler option "readonly"/,
    );
  });
});

describe('mounted in Hono under a base path', () => {
  it('serves the pages, assets and API under the base path and nothing outside it', async () => {
    const handler = createWebHandler({ inspector: store.inspector, basePath: '/admin/queues' });
    const app = new Hono();
    app.get('/', (context) => context.text('the app'));
    app.all('/admin/queues/*', (context) => handler(context.req.raw));
    app.all('/admin/queues', (context) => handler(context.req.raw));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const address = server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    try {
      expect(await (await fetch(`${base}/`)).text()).toBe('the app');
      const html = await (await fetch(`${base}/admin/queues`)).text();
      expect(configOf(html).basePath).toBe('/admin/queues');
      const script = /<script defer src="([^"]+)"/.exec(html)?.[1];
      expect(script).toMatch(/^\/admin\/queues\/assets\/app\.[0-9a-f]+\.js$/);
      expect((await fetch(`${base}${script}`)).status).toBe(200);
      const { queues } = await getJson<QueuesResponse>(base, '/admin/queues/api/queues');
      expect(queues.map((queue) => queue.queue)).toContain('emails');
      const token = configOf(html).csrfToken;
      const pause = await fetch(`${base}/admin/queues/api/queues/low/pause`, {
        method: 'POST',
        headers: { 'x-q-csrf': token },
      });
      expect(pause.status).toBe(200);
      expect((await store.inspector.getQueueInfo('low')).paused).toBe(true);
      await store.inspector.unpauseQueue('low');
      expect((await handler(new Request('http://localhost/elsewhere'))).status).toBe(404);
    } finally {
      await closeServer(server as never);
    }
  });
});

describe('mounted in Express with app.use', () => {
  it("serves the pages, assets and API under the mount path, next to the app's own routes", async () => {
    const handler = createWebHandler({ inspector: store.inspector, basePath: '/queues-admin' });
    const app = express();
    app.get('/', (_request, response) => void response.send('the app'));
    app.use('/queues-admin', toNodeListener(handler));
    const server = createServer(app);
    const base = await listen(server);
    try {
      expect(await (await fetch(`${base}/`)).text()).toBe('the app');
      const html = await (await fetch(`${base}/queues-admin/queues/emails`)).text();
      const config = configOf(html);
      expect(config.basePath).toBe('/queues-admin');
      const script = /<script defer src="([^"]+)"/.exec(html)?.[1];
      expect((await fetch(`${base}${script}`)).status).toBe(200);
      const { task } = await getJson<{ task: TaskDetail }>(base, '/queues-admin/api/queues/emails/tasks/p-1');
      expect(task.id).toBe('p-1');
      const pause = await fetch(`${base}/queues-admin/api/queues/critical/pause`, {
        method: 'POST',
        headers: { 'x-q-csrf': config.csrfToken },
      });
      expect(pause.status).toBe(200);
      expect((await store.inspector.getQueueInfo('critical')).paused).toBe(true);
      await store.inspector.unpauseQueue('critical');
    } finally {
      await closeServer(server);
    }
  });
});
