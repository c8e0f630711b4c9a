/**
 * The fault tools, as an operator would use them: `redis-cli` (SHUTDOWN NOSAVE, SCRIPT FLUSH, CLIENT
 * KILL, CLIENT PAUSE, DEBUG SLEEP, CONFIG SET), `kill -9` of a redis-server, and restarting one on the same
 * port and data directory. Only servers the battery started are touched, on loopback.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer, type RedisServerHandle } from '../../../test/redis-server';

export interface RedisCliOptions {
  port: number;
  user?: string;
  password?: string;
  timeoutMs?: number;
}

/** Runs `redis-cli -p port args…`; resolves with its output (errors in the reply included). */
export function redisCli(options: RedisCliOptions, args: readonly string[]): Promise<string> {
  const auth = options.password
    ? ['--user', options.user ?? 'default', '--pass', options.password, '--no-auth-warning']
    : [];
  return new Promise((resolve) => {
    execFile(
      'redis-cli',
      ['-h', '127.0.0.1', '-p', String(options.port), ...auth, ...args],
      { timeout: options.timeoutMs ?? 15_000 },
      (error, stdout, stderr) => resolve(`${stdout}${stderr}${error && !stdout ? error.message : ''}`.trim()),
    );
  });
}

/** A redis-server that can be killed and brought back on the same port and data directory. */
export class RestartableRedis {
  private constructor(
    private handle: RedisServerHandle,
    readonly port: number,
    readonly dir: string,
    private readonly args: string[],
  ) {}

  static async start(args: string[] = []): Promise<RestartableRedis> {
    const dir = mkdtempSync(join(tmpdir(), 'q-faults-'));
    const handle = await startRedisServer({ dir, args });
    return new RestartableRedis(handle, handle.port, dir, args);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.handle.process.pid!;
  }

  get alive(): boolean {
    return this.handle.process.exitCode === null && this.handle.process.signalCode === null;
  }

  /** `kill -9`: no shutdown of any kind. */
  async kill9(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.handle.process.once('exit', () => resolve()));
    this.handle.process.kill('SIGKILL');
    await exited;
  }

  /** `redis-cli SHUTDOWN NOSAVE`. */
  async shutdownNoSave(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.handle.process.once('exit', () => resolve()));
    await redisCli({ port: this.port }, ['SHUTDOWN', 'NOSAVE']);
    await exited;
  }

  /** Starts it again on the same port and directory (the AOF, if any, is reloaded). */
  async restart(): Promise<void> {
    this.handle = await startRedisServer({ port: this.port, dir: this.dir, args: this.args });
  }

  cli(args: readonly string[]): Promise<string> {
    return redisCli({ port: this.port }, args);
  }

  async stop(): Promise<void> {
    await this.handle.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
