/** What every command gets: where to print, the connection flags, and the broker opened on first use. */
import type { Broker } from '@q/core';
import { Inspector } from '@q/inspector';
import { resolveConnection, type Connection, type ConnectionFlags } from './connection-options';
import { openBroker, type OpenBrokerOptions } from './open-broker';
import type { Output, TextSink } from './output';

export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  env: Record<string, string | undefined>;
  /** Whether stdout is a terminal (tables get bold headings). */
  isTerminal: boolean;
}

export class CliContext {
  readonly output: Output;
  readonly env: Record<string, string | undefined>;
  /** The exit code the command chose, when it finished without throwing. */
  exitCode = 0;
  #flags: ConnectionFlags = {};
  #connection: Connection | undefined;
  #broker: Promise<Broker> | undefined;
  #closers: (() => Promise<void>)[] = [];

  constructor(io: CliIo) {
    this.env = io.env;
    this.output = {
      stdout: io.stdout,
      stderr: io.stderr,
      color: io.isTerminal && io.env.NO_COLOR === undefined && io.env.TERM !== 'dumb',
    };
  }

  setConnectionFlags(flags: ConnectionFlags): void {
    this.#flags = flags;
    this.#connection = undefined;
  }

  get connection(): Connection {
    this.#connection ??= resolveConnection(this.#flags, this.env);
    return this.#connection;
  }

  /** Secrets to scrub from anything printed; empty when the flags could not be read. */
  get secrets(): string[] {
    try {
      return this.connection.secrets;
    } catch {
      return [this.#flags.password, this.env.Q_REDIS_PASSWORD].filter((secret): secret is string => !!secret);
    }
  }

  /** The broker, opened on first use; `options` count only then. */
  broker(options?: OpenBrokerOptions): Promise<Broker> {
    this.#broker ??= openBroker(this.connection, options);
    return this.#broker;
  }

  async inspector(options?: OpenBrokerOptions): Promise<Inspector> {
    return new Inspector({ broker: await this.broker(options) });
  }

  /** Runs `close` when the command ends (servers, timers, terminals). */
  onClose(close: () => Promise<void>): void {
    this.#closers.push(close);
  }

  async close(): Promise<void> {
    for (const close of this.#closers.reverse()) await close().catch(() => undefined);
    this.#closers = [];
    const broker = this.#broker;
    this.#broker = undefined;
    if (broker) await broker.then((opened) => opened.close()).catch(() => undefined);
  }
}
