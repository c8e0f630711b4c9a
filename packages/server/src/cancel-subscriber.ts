import type { Clock, Logger } from '@q/core';
import { Backoff } from './backoff';
import type { BrokerReachability } from './broker-reachability';
import type { ServerBroker } from './server-options';
import { delay, sleep, withTimeout } from './timing';

export interface CancelSubscriberOptions {
  broker: ServerBroker;
  /** Called with the id of every task whose cancellation is requested. */
  onCancel: (taskId: string) => void;
  logger: Logger;
  reachability: BrokerReachability;
  clock: Clock;
}

/**
 * Listens for cancel requests (Go Asynq's `asynq:cancel` channel) and hands each task id to `onCancel`.
 * Subscribing is retried in the background with backoff while the broker is unreachable.
 */
export class CancelSubscriber {
  private readonly controller = new AbortController();
  private unsubscribe: (() => Promise<void>) | undefined;
  private subscribing: Promise<void> | undefined;

  private readonly broker: ServerBroker;
  private readonly onCancel: (taskId: string) => void;
  private readonly logger: Logger;
  private readonly reachability: BrokerReachability;
  private readonly clock: Clock;

  constructor(options: CancelSubscriberOptions) {
    this.broker = options.broker;
    this.onCancel = options.onCancel;
    this.logger = options.logger;
    this.reachability = options.reachability;
    this.clock = options.clock;
  }

  /** Starts subscribing; resolves once subscribed, or after `wait` ms while it keeps trying. */
  async start(wait: number): Promise<void> {
    this.subscribing ??= this.subscribe();
    const waited = delay(this.clock, wait);
    await Promise.race([this.subscribing, waited.done]);
    waited.cancel();
  }

  /** Unsubscribes; gives up after `timeout` ms. */
  async stop(timeout: number): Promise<void> {
    this.controller.abort();
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = undefined;
    if (!unsubscribe) return;
    try {
      await withTimeout(this.clock, unsubscribe(), timeout, 'unsubscribe from cancel requests');
    } catch (error) {
      this.logger.warn(
        { error: error instanceof Error ? error.message : String(error) },
        'could not unsubscribe from cancel requests',
      );
    }
  }

  private async subscribe(): Promise<void> {
    const backoff = new Backoff(200, 5000);
    const signal = this.controller.signal;
    while (!signal.aborted) {
      try {
        const unsubscribe = await withTimeout(
          this.clock,
          this.broker.subscribeCancel((taskId) => this.onCancel(taskId)),
          10_000,
          'subscribeCancel',
        );
        if (signal.aborted) {
          await unsubscribe().catch(() => undefined);
          return;
        }
        this.unsubscribe = unsubscribe;
        this.reachability.succeeded();
        return;
      } catch (error) {
        this.reachability.failed(error);
        const wait = backoff.next();
        if (backoff.failures === 1) {
          this.logger.warn(
            { error: error instanceof Error ? error.message : String(error), retryInMs: wait },
            'could not subscribe to cancel requests; retrying',
          );
        }
        await sleep(this.clock, wait, signal);
      }
    }
  }
}
