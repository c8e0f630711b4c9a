/**
 * The broker's one pub/sub connection, opened on first use: it carries cancellation requests and the
 * notify channels on which producers announce new work. Channels stay subscribed until `close()`, since
 * a server listens to the same few channels for its whole life.
 */
import { closeConnection } from './close-connection';
import { ShutdownError, type Logger } from '@q/core';
import type { Cluster, Redis } from 'ioredis';
import { connectionErrorLogger } from './connection-error-logger';
import type { RedisConnection } from './redis-scripts';

/** Gets each message as published (bytes: a hand-over carries an encoded task). */
export type MessageListener = (message: Buffer) => void;

export interface Subscription {
  /** Resolves once Redis confirmed the subscription; messages published before that are missed. */
  ready: Promise<void>;
  /** Stops calling the listener. */
  remove(): void;
}

export class RedisSubscriber {
  private connection: RedisConnection | undefined;
  private readonly listeners = new Map<string, Set<MessageListener>>();
  private readonly subscriptions = new Map<string, Promise<void>>();
  private closed = false;

  constructor(
    private readonly source: RedisConnection,
    private readonly logger: Logger,
  ) {}

  /** Calls `listener` with every message on `channel` until `remove()`. */
  listen(channel: string, listener: MessageListener): Subscription {
    let channelListeners = this.listeners.get(channel);
    if (!channelListeners) {
      channelListeners = new Set();
      this.listeners.set(channel, channelListeners);
    }
    channelListeners.add(listener);
    return {
      ready: this.subscribe(channel),
      remove: () => {
        channelListeners.delete(listener);
      },
    };
  }

  /** The connection is up (messages published now reach the listeners of confirmed subscriptions). */
  get live(): boolean {
    return this.connection?.status === 'ready';
  }

  async close(): Promise<void> {
    this.closed = true;
    const connection = this.connection;
    this.connection = undefined;
    this.listeners.clear();
    this.subscriptions.clear();
    if (!connection) return;
    await closeConnection(connection);
  }

  private subscribe(channel: string): Promise<void> {
    let subscription = this.subscriptions.get(channel);
    if (!subscription) {
      subscription = this.open()
        .subscribe(channel)
        .then(() => undefined);
      this.subscriptions.set(channel, subscription);
      // A failed SUBSCRIBE is forgotten so that the next listen tries again.
      subscription.catch(() => {
        if (this.subscriptions.get(channel) === subscription) this.subscriptions.delete(channel);
      });
    }
    return subscription;
  }

  private open(): RedisConnection {
    if (this.closed) throw new ShutdownError('The Redis broker is closed; create a new one to subscribe.');
    if (this.connection) return this.connection;
    const connection: RedisConnection = this.source.isCluster
      ? (this.source as Cluster).duplicate([], { enableAutoPipelining: false })
      : (this.source as Redis).duplicate({ enableAutoPipelining: false });
    connection.on('error', connectionErrorLogger(this.logger, 'subscriber'));
    connection.on('messageBuffer', (channelBytes: Buffer, message: Buffer) => {
      const channel = channelBytes.toString();
      const channelListeners = this.listeners.get(channel);
      if (!channelListeners) return;
      for (const listener of [...channelListeners]) {
        try {
          listener(message);
        } catch (error) {
          this.logger.error({ channel, error: (error as Error).message }, 'A pub/sub listener threw');
        }
      }
    });
    this.connection = connection;
    return connection;
  }
}
