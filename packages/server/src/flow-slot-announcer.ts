/**
 * Tells the servers waiting on a flow-limited queue that one of its tasks finished here, so that one of
 * them takes the freed slot now rather than at its next poll. Tasks that finish together are announced
 * once per queue.
 */
import { hasFlowControl, type Logger } from '@q/core';
import type { ServerBroker } from './server-options';

export class FlowSlotAnnouncer {
  private readonly queued = new Set<string>();

  constructor(
    private readonly broker: ServerBroker,
    private readonly logger: Logger,
  ) {}

  announce(queue: string): void {
    const broker = this.broker;
    if (this.queued.has(queue) || !hasFlowControl(broker)) return;
    this.queued.add(queue);
    setImmediate(() => {
      this.queued.delete(queue);
      broker.announceFlowSlot(queue).catch((error: unknown) => {
        // The waiting servers still find the slot at their next poll.
        this.logger.debug(
          { queue, error: error instanceof Error ? error.message : String(error) },
          'could not announce a freed flow slot',
        );
      });
    });
  }
}
