import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ValidationError, type Logger } from '@q/core';
import type { ProcessLike } from './process-lifecycle';
import { runInProcess } from './run';
import type {
  ServerLikeTask,
  ServerLikeState,
  ServerLike,
  ServerShutdownOptions,
  ServerLikeStateChange,
} from './server-like';

/** A server that does nothing but move between states the way `@q/server` does. */
class FakeServer extends EventEmitter implements ServerLike<string> {
  state: ServerLikeState = 'new';
  shutdownTimeout = 1000;
  lastFetchAt: number | undefined = undefined;
  brokerReachable = true;
  tasks: ServerLikeTask[] = [];
  signals: string[] = [];
  shutdownCalls: ServerShutdownOptions[] = [];
  /** When set, shutdown() never settles. */
  hang = false;
  /** The clock the state changes are stamped with. */
  now: () => number = () => Date.now();
  #closeShutdown: (() => void) | undefined;

  #move(to: ServerLikeState): void {
    const change: ServerLikeStateChange = { from: this.state, to, at: this.now() };
    this.state = to;
    this.emit('state', change);
  }

  start(_handler: string): Promise<void> {
    this.#move('running');
    this.lastFetchAt = Date.now();
    return Promise.resolve();
  }
  stop(): void {
    this.#move('quiet');
  }
  resume(): void {
    this.#move('running');
  }
  shutdown(options: ServerShutdownOptions = {}): Promise<void> {
    this.shutdownCalls.push(options);
    if (this.state !== 'draining') this.#move('draining');
    if (this.hang) return new Promise(() => undefined);
    return new Promise((resolve) => {
      const close = (): void => {
        if (this.state !== 'closed') this.#move('closed');
        resolve();
      };
      if (options.force) close();
      else {
        this.#closeShutdown = close;
        setTimeout(close, 50);
      }
    });
  }
  finishShutdown(): void {
    this.#closeShutdown?.();
  }
  recordSignal(signal: string): void {
    this.signals.push(signal);
  }
  runningTasks(): readonly ServerLikeTask[] {
    return this.tasks;
  }
}

class FakeProcess extends EventEmitter implements ProcessLike {
  readonly pid = 4242;
  exitCodes: number[] = [];
  constructor(readonly platform: NodeJS.Platform = 'linux') {
    super();
  }
  exit(code: number): void {
    this.exitCodes.push(code);
  }
  send(signal: NodeJS.Signals): void {
    this.emit(signal, signal);
  }
}

interface LogLine {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

function memoryLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (fieldsOrMessage: Record<string, unknown> | string, message?: string): void => {
      if (typeof fieldsOrMessage === 'string') lines.push({ level, fields: {}, message: fieldsOrMessage });
      else lines.push({ level, fields: fieldsOrMessage, message: message ?? '' });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function startRun(
  options: Parameters<typeof runInProcess>[2] = {},
  environment: { platform?: NodeJS.Platform; now?: () => number } = {},
) {
  const server = new FakeServer();
  const processLike = new FakeProcess(environment.platform);
  const logger = memoryLogger();
  const finished = runInProcess(
    server,
    'handler',
    { logger, exitProcess: false, ...options },
    { process: processLike, ...(environment.now ? { now: environment.now } : {}) },
  );
  await vi.waitFor(() => expect(server.state).toBe('running'));
  await new Promise((resolve) => setImmediate(resolve));
  return { server, processLike, logger, finished };
}

/** The timers `run()` uses; the rest (setImmediate, I/O) stays real so that promises and events go on. */
const fakedTimers: Parameters<typeof vi.useFakeTimers>[0] extends { toFake?: infer Names } | undefined
  ? NonNullable<Names>
  : never = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'];

/** Whether `promise` has settled yet, read without waiting for it. */
function settledFlag(promise: Promise<unknown>): { value: boolean } {
  const flag = { value: false };
  void promise.finally(() => {
    flag.value = true;
  });
  return flag;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('run', () => {
  it('quiets on TSTP, resumes on CONT, and logs each signal with the state change it caused', async () => {
    const { server, processLike, logger, finished } = await startRun();
    processLike.send('SIGTSTP');
    expect(server.state).toBe('quiet');
    processLike.send('SIGCONT');
    expect(server.state).toBe('running');
    expect(server.signals).toEqual(['SIGTSTP', 'SIGCONT']);
    const signalLines = logger.lines.filter(
      (line) => line.fields.signal !== undefined && 'outcome' in line.fields,
    );
    expect(
      signalLines.map((line) => [line.fields.signal, line.fields.stateBefore, line.fields.stateAfter]),
    ).toEqual([
      ['SIGTSTP', 'running', 'quiet'],
      ['SIGCONT', 'quiet', 'running'],
    ]);
    expect(typeof signalLines[0]!.fields.receivedAt).toBe('string');
    processLike.send('SIGTERM');
    await expect(finished).resolves.toMatchObject({
      exitCode: 0,
      reason: 'signal',
      signal: 'SIGTERM',
      forced: false,
    });
  });

  it('starts exactly one shutdown for TERM, forces it on a second TERM or INT, ignores everything after', async () => {
    const { server, processLike, finished } = await startRun();
    processLike.send('SIGTERM');
    processLike.send('SIGTSTP');
    processLike.send('SIGCONT');
    processLike.send('SIGHUP');
    expect(server.shutdownCalls).toEqual([{ timeout: 1000 }]);
    processLike.send('SIGINT');
    processLike.send('SIGTERM');
    expect(server.shutdownCalls).toEqual([{ timeout: 1000 }, { timeout: 0, force: true }]);
    await expect(finished).resolves.toMatchObject({ exitCode: 0, forced: true, signal: 'SIGTERM' });
  });

  it('never forces on a repeated HUP', async () => {
    const { server, processLike, finished } = await startRun();
    processLike.send('SIGHUP');
    processLike.send('SIGHUP');
    expect(server.shutdownCalls).toEqual([{ timeout: 1000 }]);
    await expect(finished).resolves.toMatchObject({ exitCode: 0, forced: false, signal: 'SIGHUP' });
  });

  it('shuts down gracefully on HUP even when every log line throws (the terminal is gone)', async () => {
    const throwing = (): void => {
      throw Object.assign(new Error('write EIO'), { code: 'EIO' });
    };
    const terminal = Object.assign(new EventEmitter(), {
      stdout: new EventEmitter(),
      stderr: new EventEmitter(),
      exitCodes: [] as number[],
      exit(code: number) {
        terminal.exitCodes.push(code);
      },
    });
    const server = new FakeServer();
    const processLike = Object.assign(new FakeProcess(), { terminal });
    const finished = runInProcess(
      server,
      'handler',
      { exitProcess: false, logger: { debug: throwing, info: throwing, warn: throwing, error: throwing } },
      { process: processLike },
    );
    await vi.waitFor(() => expect(server.state).toBe('running'));
    processLike.send('SIGHUP');
    const writeError = Object.assign(new Error('write EIO'), { code: 'EIO' });
    expect(() => terminal.stdout.emit('error', writeError)).not.toThrow();
    terminal.emit('uncaughtException', writeError);
    expect(terminal.exitCodes).toEqual([]);
    terminal.emit('uncaughtException', new TypeError('a real bug'));
    expect(terminal.exitCodes).toEqual([1]);
    expect(server.shutdownCalls).toEqual([{ timeout: 1000 }]);
    await expect(finished).resolves.toMatchObject({ exitCode: 0, signal: 'SIGHUP' });
  });

  it('writes a state dump on USR2 and changes nothing', async () => {
    const { server, processLike, logger, finished } = await startRun();
    server.tasks = [
      { id: 't1', type: 'email:send', queue: 'critical', startedAt: Date.now() - 1500, overdue: false },
    ];
    processLike.send('SIGUSR2');
    expect(server.state).toBe('running');
    const dump = logger.lines.find((line) => line.fields.dump !== undefined)?.fields.dump as Record<
      string,
      unknown
    >;
    expect(dump).toMatchObject({ pid: 4242, state: 'running', brokerReachable: true });
    expect(dump.recentSignals).toEqual([expect.objectContaining({ signal: 'SIGUSR2' })]);
    expect(dump.runningTasks).toEqual([
      expect.objectContaining({ id: 't1', type: 'email:send', queue: 'critical', overdue: false }),
    ]);
    expect((dump.runningTasks as { ageMs: number }[])[0]!.ageMs).toBeGreaterThanOrEqual(1500);
    processLike.send('SIGTERM');
    await finished;
  });

  it('handles only TERM and INT on Windows', async () => {
    const { processLike, finished } = await startRun({}, { platform: 'win32' });
    expect(processLike.eventNames().sort()).toEqual(['SIGINT', 'SIGTERM']);
    processLike.send('SIGINT');
    await finished;
  });

  it('installs handlers for exactly the six signals on POSIX, and removes them when done', async () => {
    const { processLike, finished } = await startRun();
    expect(processLike.eventNames().sort()).toEqual([
      'SIGCONT',
      'SIGHUP',
      'SIGINT',
      'SIGTERM',
      'SIGTSTP',
      'SIGUSR2',
    ]);
    processLike.send('SIGTERM');
    await finished;
    expect(processLike.eventNames()).toEqual([]);
  });

  it('exits the process with 0 after the shutdown by default', async () => {
    const { processLike, finished } = await startRun({ exitProcess: true });
    processLike.send('SIGTERM');
    await finished;
    expect(processLike.exitCodes).toEqual([0]);
  });

  it('lets the watchdog exit with a non-zero code and log what is still running when the shutdown hangs', async () => {
    vi.useFakeTimers({ toFake: fakedTimers });
    const { server, processLike, logger, finished } = await startRun({
      shutdownTimeout: 100,
      watchdogGrace: 50,
      watchdogExitCode: 70,
    });
    server.hang = true;
    server.tasks = [
      { id: 'stuck', type: 'never:settles', queue: 'default', startedAt: Date.now(), overdue: true },
    ];
    const settled = settledFlag(finished);
    processLike.send('SIGTERM');
    // The shutdown timeout plus the grace, to the millisecond: not one earlier.
    await vi.advanceTimersByTimeAsync(149);
    expect(settled.value).toBe(false);
    expect(processLike.exitCodes).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await expect(finished).resolves.toMatchObject({ exitCode: 70, reason: 'watchdog' });
    expect(processLike.exitCodes).toEqual([70]);
    const line = logger.lines.find(
      (entry) => entry.level === 'error' && entry.message.startsWith('watchdog'),
    );
    expect(line?.fields.runningTasks).toEqual([expect.objectContaining({ id: 'stuck', overdue: true })]);
  });

  it('bounds a forced shutdown by forcedShutdownTimeout, even when it hangs', async () => {
    vi.useFakeTimers({ toFake: fakedTimers });
    const { server, processLike, finished } = await startRun({
      shutdownTimeout: 60_000,
      forcedShutdownTimeout: 100,
    });
    server.hang = true;
    const settled = settledFlag(finished);
    processLike.send('SIGTERM');
    await vi.advanceTimersByTimeAsync(500);
    processLike.send('SIGINT');
    // The second signal moves the watchdog from 60 s away to 100 ms after it.
    await vi.advanceTimersByTimeAsync(99);
    expect(settled.value).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(finished).resolves.toMatchObject({ reason: 'watchdog', forced: true, exitCode: 1 });
  });

  it('resolves when the application shuts the server down itself', async () => {
    const { server, finished } = await startRun();
    void server.shutdown();
    await expect(finished).resolves.toMatchObject({ exitCode: 0, reason: 'closed', forced: false });
  });

  it('arms the watchdog when the application shuts the server down itself', async () => {
    const { server, finished } = await startRun({ shutdownTimeout: 100, watchdogGrace: 50 });
    server.hang = true;
    void server.shutdown();
    await expect(finished).resolves.toMatchObject({ reason: 'watchdog' });
  });

  it('applies a TSTP that arrives while the server starts once it has started', async () => {
    const server = new FakeServer();
    let finishStart!: () => void;
    server.start = () =>
      new Promise<void>((resolve) => {
        finishStart = () => {
          server.state = 'running';
          resolve();
        };
      });
    const processLike = new FakeProcess();
    const finished = runInProcess(server, 'handler', { exitProcess: false }, { process: processLike });
    await new Promise((resolve) => setImmediate(resolve));
    processLike.send('SIGTSTP');
    expect(server.state).toBe('new');
    finishStart();
    await vi.waitFor(() => expect(server.state).toBe('quiet'));
    processLike.send('SIGTERM');
    await finished;
  });

  it('rejects when the server fails to start and exitProcess is false', async () => {
    const server = new FakeServer();
    server.start = () => Promise.reject(new Error('no broker'));
    const processLike = new FakeProcess();
    await expect(
      runInProcess(server, 'handler', { exitProcess: false }, { process: processLike }),
    ).rejects.toThrow('no broker');
  });

  it('refuses unknown or invalid options with a ValidationError that says what to change', async () => {
    const server = new FakeServer();
    const processLike = new FakeProcess();
    await expect(
      runInProcess(server, 'handler', { shutdownTimout: '5s' } as never, { process: processLike }),
    ).rejects.toThrow(ValidationError);
    await expect(
      runInProcess(server, 'handler', { watchdogExitCode: 0 }, { process: processLike }),
    ).rejects.toThrow(/non-zero/);
    await expect(
      runInProcess(server, 'handler', { shutdownTimeout: 'soon' }, { process: processLike }),
    ).rejects.toThrow(/shutdownTimeout/);
    expect(processLike.eventNames()).toEqual([]);
  });

  it('serves /healthz and /readyz on 127.0.0.1 that fail while quiet, draining or stuck', async () => {
    // The probes are real HTTP requests, so the timers stay real; the clock the checks read is ours.
    let clock = Date.now();
    const { server, processLike, logger, finished } = await startRun(
      { health: { port: 0 }, fetchStaleAfter: 1000 },
      { now: () => clock },
    );
    server.now = () => clock;
    const running = logger.lines.find((line) => line.message.startsWith('worker running'));
    const url = running?.fields.health as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // A logger that prints only the message still shows where to probe.
    expect(running?.message).toMatch(
      new RegExp(
        `; health endpoint at ${url.replace(/\./g, '\\.')}/healthz and ${url.replace(/\./g, '\\.')}/readyz$`,
      ),
    );
    const probe = async (path: string) => {
      const response = await fetch(url + path);
      return { status: response.status, body: (await response.json()) as { reasons: string[] } };
    };
    server.lastFetchAt = clock;
    expect((await probe('/healthz')).status).toBe(200);
    expect((await probe('/readyz')).status).toBe(200);

    processLike.send('SIGTSTP');
    server.lastFetchAt = clock;
    expect((await probe('/healthz')).status).toBe(200);
    expect(await probe('/readyz')).toMatchObject({
      status: 503,
      body: { reasons: [expect.stringMatching(/quiet/)] },
    });
    processLike.send('SIGCONT');

    server.brokerReachable = false;
    expect(await probe('/healthz')).toMatchObject({
      status: 503,
      body: { reasons: [expect.stringMatching(/broker/)] },
    });
    server.brokerReachable = true;

    // The fetch loop stops going round: once fetchStaleAfter has passed since its last run, both probes fail.
    server.lastFetchAt = clock;
    clock += 1000;
    expect((await probe('/healthz')).status).toBe(200);
    clock += 1;
    expect(await probe('/healthz')).toMatchObject({
      status: 503,
      body: { reasons: [expect.stringMatching(/fetch loop has not run/)] },
    });
    server.lastFetchAt = clock;
    expect((await probe('/nothing')).status).toBe(404);

    server.hang = true;
    processLike.send('SIGTERM');
    expect(await probe('/healthz')).toMatchObject({
      status: 503,
      body: { reasons: [expect.stringMatching(/draining/)] },
    });
    server.hang = false;
    processLike.send('SIGTERM');
    await finished;
  });
});
