/** The dashboard's JSON API: each route reads or changes the store through the `Inspector`. */
import { isTaskState, QError } from '@q/core';
import type { Inspector } from '@q/inspector';
import type {
  ActionResponse,
  DailyCount,
  QueueResponse,
  QueuesResponse,
  RedisResponse,
  SchedulerHistoryResponse,
  SearchResponse,
  TasksResponse,
} from './api-types';
import {
  doctorResponse,
  queueSummary,
  schedulerEntrySummary,
  serverSummary,
  taskDetail,
  taskSummary,
} from './serialize';

/** An answer with a status other than 200, and a message for the page. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = 'bad-request',
  ) {
    super(message);
  }
}

export interface ApiOptions {
  inspector: Inspector;
  previewBytes: number;
  source: string | undefined;
}

type Params = URLSearchParams;
type Handler = (match: string[], params: Params, request: Request) => Promise<unknown>;

interface Route {
  method: 'GET' | 'POST';
  pattern: RegExp;
  handler: Handler;
}

/** How many bytes "show all" returns at most: beyond, the page offers the download. */
const fullPreviewBytes = 1024 * 1024;
const maxPageSize = 200;
const maxHistoryDays = 90;

export class Api {
  readonly #inspector: Inspector;
  readonly #previewBytes: number;
  readonly #source: string | undefined;
  readonly #routes: Route[];

  constructor(options: ApiOptions) {
    this.#inspector = options.inspector;
    this.#previewBytes = options.previewBytes;
    this.#source = options.source;
    const segment = '([^/]+)';
    const get = (path: string, handler: Handler): Route => ({
      method: 'GET',
      pattern: new RegExp(`^${path.replaceAll(':s', segment)}$`),
      handler,
    });
    const post = (path: string, handler: Handler): Route => ({ ...get(path, handler), method: 'POST' });
    this.#routes = [
      get('/queues', (_match, params) => this.#queues(params)),
      get('/queues/:s', ([queue], params) => this.#queue(queue!, params)),
      get('/queues/:s/tasks', ([queue], params) => this.#tasks(queue!, params)),
      get('/queues/:s/tasks/:s', ([queue, id], params) => this.#task(queue!, id!, params)),
      get('/queues/:s/tasks/:s/(payload|result)', ([queue, id, part]) =>
        this.#download(queue!, id!, part as 'payload' | 'result'),
      ),
      get('/servers', () => this.#servers()),
      get('/schedulers', () => this.#schedulers()),
      get('/schedulers/:s/history', ([entry], params) => this.#schedulerHistory(entry!, params)),
      get('/redis', () => this.#redis()),
      get('/doctor', (_match, params) => this.#doctor(params)),
      get('/search', (_match, params) => this.#search(params)),
      post('/queues/:s/(pause|resume)', ([queue, action]) => this.#pause(queue!, action === 'pause')),
      post('/queues/:s/tasks/:s/(run|archive|delete|cancel)', ([queue, id, action]) =>
        this.#taskAction(queue!, id!, action as TaskAction),
      ),
      post('/queues/:s/selected/(run|archive|delete)', ([queue, action], _params, request) =>
        this.#selected(queue!, action as BulkAction, request),
      ),
      post('/queues/:s/(run|archive|delete)-all', ([queue, action], params) =>
        this.#bulk(queue!, action as BulkAction, params),
      ),
    ];
  }

  async handle(request: Request, path: string, params: Params): Promise<unknown> {
    const method = request.method.toUpperCase();
    let allowed = false;
    for (const route of this.#routes) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      allowed = true;
      if (route.method !== method && !(route.method === 'GET' && method === 'HEAD')) continue;
      const decoded = match.slice(1).map((part) => {
        try {
          return decodeURIComponent(part);
        } catch {
          throw new HttpError(400, `The address has a malformed part: ${part}.`);
        }
      });
      return route.handler(decoded, params, request);
    }
    if (allowed) throw new HttpError(405, `${method} is not allowed on ${path}.`, 'method-not-allowed');
    throw new HttpError(404, `No such API route: ${path}.`, 'not-found');
  }

  async #queues(params: Params): Promise<QueuesResponse> {
    const days = readInteger(params, 'days', 7, maxHistoryDays);
    const names = await this.#inspector.queues();
    const [infos, histories] = await Promise.all([
      Promise.all(names.map((name) => this.#inspector.getQueueInfo(name))),
      Promise.all(names.map((name) => this.#inspector.history(name, days))),
    ]);
    const byDate = new Map<string, { date: string; processed: number; failed: number }>();
    for (const day of histories.flat()) {
      const total = byDate.get(day.date) ?? { date: day.date, processed: 0, failed: 0 };
      total.processed += day.processed;
      total.failed += day.failed;
      byDate.set(day.date, total);
    }
    return {
      queues: infos.map(queueSummary),
      history: [...byDate.values()].sort((a, b) => a.date.localeCompare(b.date)),
    };
  }

  async #queue(queue: string, params: Params): Promise<QueueResponse> {
    const days = readInteger(params, 'days', 7, maxHistoryDays);
    await this.#assertQueue(queue);
    const [info, history, groups] = await Promise.all([
      this.#inspector.getQueueInfo(queue),
      this.#inspector.history(queue, days),
      this.#inspector.groups(queue),
    ]);
    const daily: DailyCount[] = history
      .map((day) => ({ ...day }))
      .sort((a, b) => a.date.localeCompare(b.date));
    return { queue: queueSummary(info), history: daily, groups: groups.map((group) => ({ ...group })) };
  }

  async #tasks(queue: string, params: Params): Promise<TasksResponse> {
    const state = params.get('state') ?? 'pending';
    if (!isTaskState(state)) {
      throw new HttpError(
        400,
        `Unknown state ${JSON.stringify(state)}; use active, pending, aggregating, scheduled, retry, archived or completed.`,
      );
    }
    const page = readInteger(params, 'page', 1, Number.MAX_SAFE_INTEGER);
    const pageSize = readInteger(params, 'pageSize', 20, maxPageSize);
    const group = params.get('group') ?? undefined;
    await this.#assertQueue(queue);
    if (state === 'aggregating' && group === undefined) {
      throw new HttpError(400, 'Aggregating tasks are listed by group: add group=<name>.');
    }
    const [tasks, info, groups] = await Promise.all([
      this.#inspector.listTasks(queue, state, { page, pageSize, ...(group === undefined ? {} : { group }) }),
      this.#inspector.getQueueInfo(queue),
      state === 'aggregating' ? this.#inspector.groups(queue) : Promise.resolve([]),
    ]);
    const total =
      state === 'aggregating' ? (groups.find((entry) => entry.group === group)?.size ?? 0) : info[state];
    const response: TasksResponse = {
      queue,
      state: state,
      page,
      pageSize,
      total,
      tasks: tasks.map((task) => taskSummary(task, Math.min(this.#previewBytes, 256))),
    };
    if (group !== undefined) response.group = group;
    return response;
  }

  async #task(queue: string, id: string, params: Params) {
    const task = await this.#inspector.getTaskInfo(queue, id);
    const limit = params.get('full') === '1' ? fullPreviewBytes : this.#previewBytes;
    return { task: taskDetail(task, limit) };
  }

  async #download(queue: string, id: string, part: 'payload' | 'result'): Promise<Response> {
    const task = await this.#inspector.getTaskInfo(queue, id);
    const bytes = part === 'payload' ? task.payload : task.result;
    if (!bytes) throw new HttpError(404, `Task ${id} has no result.`, 'not-found');
    const name = `${id}.${part}`.replace(/[^\w.-]/g, '_');
    return new Response(bytes, {
      status: 200,
      headers: {
        // Never rendered by the browser: a payload holding HTML stays a file.
        'content-type': 'application/octet-stream',
        'content-disposition': `attachment; filename="${name}"`,
        'cache-control': 'no-store',
      },
    });
  }

  async #servers() {
    const servers = await this.#inspector.servers();
    return { servers: servers.map((server) => serverSummary(server, Math.min(this.#previewBytes, 256))) };
  }

  async #schedulers() {
    const entries = await this.#inspector.schedulerEntries();
    return {
      entries: entries.map((entry) => schedulerEntrySummary(entry, Math.min(this.#previewBytes, 256))),
    };
  }

  async #schedulerHistory(entryId: string, params: Params): Promise<SchedulerHistoryResponse> {
    const page = readInteger(params, 'page', 1, Number.MAX_SAFE_INTEGER);
    const pageSize = readInteger(params, 'pageSize', 20, maxPageSize);
    const events = await this.#inspector.listSchedulerEnqueueEvents(entryId, { page, pageSize });
    return {
      entryId,
      page,
      pageSize,
      events: events.map((event) => ({ taskId: event.taskId, enqueuedAt: event.enqueuedAt.toISOString() })),
    };
  }

  async #redis(): Promise<RedisResponse> {
    const names = await this.#inspector.queues();
    const infos = await Promise.all(names.map((name) => this.#inspector.getQueueInfo(name)));
    const response: RedisResponse = {
      queues: infos.map((info) => ({ queue: info.queue, memoryUsage: info.memoryUsage, size: info.size })),
    };
    if (this.#source !== undefined) response.source = this.#source;
    try {
      const store = await this.#inspector.storeInfo();
      response.store = { ...store, time: new Date(store.time).toISOString() };
    } catch (error) {
      response.storeError = error instanceof Error ? error.message : String(error);
    }
    return response;
  }

  async #doctor(params: Params) {
    const queue = params.get('queue') || undefined;
    return doctorResponse(await this.#inspector.diagnose(queue));
  }

  async #search(params: Params): Promise<SearchResponse> {
    const id = (params.get('id') ?? '').trim();
    if (id === '') throw new HttpError(400, 'Search needs a task id: add id=<task id>.');
    const names = await this.#inspector.queues();
    const found = await Promise.all(
      names.map((queue) =>
        this.#inspector.getTaskInfo(queue, id).catch((error: unknown) => {
          if (QError.is(error) && (error.code === 'Q_TASK_NOT_FOUND' || error.code === 'Q_QUEUE_NOT_FOUND'))
            return undefined;
          throw error;
        }),
      ),
    );
    return {
      id,
      matches: found
        .filter((task) => task !== undefined)
        .map((task) => taskSummary(task, Math.min(this.#previewBytes, 256))),
    };
  }

  async #pause(queue: string, pause: boolean): Promise<ActionResponse> {
    await this.#assertQueue(queue);
    if (pause) await this.#inspector.pauseQueue(queue);
    else await this.#inspector.unpauseQueue(queue);
    return { ok: true, message: `Queue ${queue} ${pause ? 'paused' : 'resumed'}.` };
  }

  async #taskAction(queue: string, id: string, action: TaskAction): Promise<ActionResponse> {
    if (action === 'cancel') {
      await this.#inspector.cancelProcessing(id);
      return {
        ok: true,
        message: `Asked the server running task ${id} to cancel it; it fails and retries as usual.`,
      };
    }
    if (action === 'run') await this.#inspector.runTask(queue, id);
    else if (action === 'archive') await this.#inspector.archiveTask(queue, id);
    else await this.#inspector.deleteTask(queue, id);
    const done = { run: 'is pending, to run now', archive: 'archived', delete: 'deleted' }[action];
    return { ok: true, message: `Task ${id} ${done}.` };
  }

  async #bulk(queue: string, action: BulkAction, params: Params): Promise<ActionResponse> {
    const state = params.get('state');
    if (!isTaskState(state)) throw new HttpError(400, 'Bulk actions need state=<state>.');
    const group = params.get('group') ?? undefined;
    await this.#assertQueue(queue);
    const options = group === undefined ? {} : { group };
    const count =
      action === 'run'
        ? await this.#inspector.runAllTasks(queue, state, options)
        : action === 'archive'
          ? await this.#inspector.archiveAllTasks(queue, state, options)
          : await this.#inspector.deleteAllTasks(queue, state, options);
    const done = { run: 'made pending', archive: 'archived', delete: 'deleted' }[action];
    return { ok: true, count, message: `${count} ${state} task${count === 1 ? '' : 's'} ${done}.` };
  }

  /** The same action on each task whose id is in the JSON body `{ "ids": [...] }`. */
  async #selected(queue: string, action: BulkAction, request: Request): Promise<ActionResponse> {
    const body = (await request.json().catch(() => undefined)) as { ids?: unknown } | undefined;
    const ids = body?.ids;
    if (
      !Array.isArray(ids) ||
      ids.length === 0 ||
      ids.length > maxPageSize ||
      !ids.every((id) => typeof id === 'string' && id !== '')
    ) {
      throw new HttpError(400, `Send the task ids as JSON: { "ids": ["…"] }, 1 to ${maxPageSize} of them.`);
    }
    await this.#assertQueue(queue);
    const failures: string[] = [];
    let count = 0;
    for (const id of ids as string[]) {
      try {
        if (action === 'run') await this.#inspector.runTask(queue, id);
        else if (action === 'archive') await this.#inspector.archiveTask(queue, id);
        else await this.#inspector.deleteTask(queue, id);
        count += 1;
      } catch (error) {
        if (!QError.is(error)) throw error;
        failures.push(`${id}: ${error.message}`);
      }
    }
    const done = { run: 'made pending', archive: 'archived', delete: 'deleted' }[action];
    const message = `${count} task${count === 1 ? '' : 's'} ${done}.${failures.length > 0 ? ` Not done: ${failures.join('; ')}` : ''}`;
    return { ok: true, count, message };
  }

  async #assertQueue(queue: string): Promise<void> {
    const names = await this.#inspector.queues();
    if (!names.includes(queue)) {
      throw new HttpError(404, `No queue named ${JSON.stringify(queue)}.`, 'not-found');
    }
  }
}

type TaskAction = 'run' | 'archive' | 'delete' | 'cancel';
type BulkAction = 'run' | 'archive' | 'delete';

function readInteger(params: Params, name: string, fallback: number, max: number): number {
  const raw = params.get(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new HttpError(400, `${name} must be a whole number from 1 to ${max}, got ${JSON.stringify(raw)}.`);
  }
  return value;
}
