/**
 * The producer: enqueues a steady, realistic mix of the 15 task types. About one task in twenty is
 * flaky (fails twice, then succeeds on a retry) and one in a hundred is broken (archived at once); some
 * are scheduled for later, and welcome emails are unique per user, so repeated sign-ups are refused.
 */
import { randomUUID } from 'node:crypto';
import { DuplicateTaskError, type Logger } from '@q/core';
import type { Client } from '@q/client';
import {
  aggregateEvents,
  capturePayment,
  cleanExpiredSessions,
  confirmOrder,
  deliverWebhook,
  generateInvoicePdf,
  indexProduct,
  refundPayment,
  resizeImage,
  sendPasswordReset,
  sendPushNotification,
  sendVerificationCode,
  sendWelcomeEmail,
  syncInventory,
} from './task-definitions';

type Simulate = 'ok' | 'flaky' | 'broken';

function pickSimulate(): Simulate {
  const roll = Math.random();
  if (roll < 0.01) return 'broken';
  if (roll < 0.06) return 'flaky';
  return 'ok';
}

const short = (): string => randomUUID().slice(0, 8);
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** Each entry enqueues one task; `weight` says how often it is picked. */
const mix: { weight: number; enqueue: (client: Client, simulate: Simulate) => Promise<unknown> }[] = [
  {
    weight: 10,
    enqueue: (client, simulate) =>
      client.enqueue(capturePayment, {
        orderId: `order-${short()}`,
        amountCents: 1999,
        currency: 'EUR',
        simulate,
      }),
  },
  {
    weight: 2,
    enqueue: (client, simulate) =>
      client.enqueue(refundPayment, {
        orderId: `order-${short()}`,
        amountCents: 500,
        reason: 'damaged',
        simulate,
      }),
  },
  {
    weight: 10,
    enqueue: (client, simulate) =>
      client.enqueue(confirmOrder, {
        orderId: `order-${short()}`,
        customerId: `customer-${short()}`,
        simulate,
      }),
  },
  {
    weight: 4,
    enqueue: (client, simulate) =>
      client.enqueue(sendPasswordReset, { to: 'someone@example.com', resetToken: randomUUID(), simulate }),
  },
  {
    weight: 6,
    enqueue: (client, simulate) =>
      client.enqueue(sendVerificationCode, {
        phone: '+4915112345678',
        code: String(Math.floor(100_000 + Math.random() * 900_000)),
        simulate,
      }),
  },
  {
    weight: 8,
    // Webhooks fail more often than the rest: receivers are down now and then.
    enqueue: (client, simulate) =>
      client.enqueue(deliverWebhook, {
        endpoint: 'https://hooks.example.com/orders',
        event: 'order.paid',
        attemptBudgetMs: 1500,
        simulate: simulate === 'ok' && Math.random() < 0.15 ? 'flaky' : simulate,
      }),
  },
  {
    weight: 4,
    // A small pool of users: the same user signs up again now and then and is refused as a duplicate.
    enqueue: (client, simulate) => {
      const userId = `user-${Math.floor(Math.random() * 200)}`;
      return client.enqueue(sendWelcomeEmail, { userId, to: `${userId}@example.com`, simulate });
    },
  },
  {
    weight: 3,
    enqueue: (client, simulate) =>
      client.enqueue(generateInvoicePdf, {
        invoiceId: `inv-${short()}`,
        pages: 4 + Math.floor(Math.random() * 12),
        simulate,
      }),
  },
  {
    weight: 5,
    enqueue: (client, simulate) =>
      client.enqueue(resizeImage, { imageId: `img-${short()}`, widths: [320, 640, 1280], simulate }),
  },
  {
    weight: 6,
    enqueue: (client, simulate) =>
      client.enqueue(indexProduct, { productId: `sku-${short()}`, fields: ['title', 'price'], simulate }),
  },
  {
    weight: 6,
    enqueue: (client, simulate) =>
      client.enqueue(sendPushNotification, {
        deviceToken: short(),
        title: pick(['Your order shipped', 'Price drop', 'New message']),
        body: 'Open the app to see more.',
        simulate,
      }),
  },
  {
    weight: 2,
    // Scheduled: due 10 to 30 seconds from now.
    enqueue: (client, simulate) =>
      client.enqueue(
        syncInventory,
        { warehouseId: pick(['berlin', 'lyon', 'porto']), skuCount: 1200, simulate },
        { processIn: `${10 + Math.floor(Math.random() * 20)}s` },
      ),
  },
  {
    weight: 1,
    enqueue: (client, simulate) => client.enqueue(cleanExpiredSessions, { olderThanHours: 24, simulate }),
  },
  {
    weight: 2,
    enqueue: (client, simulate) =>
      client.enqueue(
        aggregateEvents,
        { hour: new Date().toISOString(), eventCount: Math.floor(Math.random() * 10_000), simulate },
        { processIn: '5s' },
      ),
  },
];

const totalWeight = mix.reduce((sum, entry) => sum + entry.weight, 0);

function pickEntry(): (typeof mix)[number] {
  let roll = Math.random() * totalWeight;
  for (const entry of mix) {
    roll -= entry.weight;
    if (roll < 0) return entry;
  }
  return mix[0]!;
}

export interface Producer {
  /** Stops enqueueing; resolves when the enqueue in flight, if any, has settled. */
  stop(): Promise<void>;
}

export interface ProducerOptions {
  client: Client;
  logger: Logger;
  /** Tasks per second. */
  rate: number;
}

export function startProducer({ client, logger, rate }: ProducerOptions): Producer {
  let stopped = false;
  let inFlight: Promise<void> = Promise.resolve();
  let enqueued = 0;
  let refused = 0;

  const enqueueOne = async (): Promise<void> => {
    try {
      await pickEntry().enqueue(client, pickSimulate());
      enqueued += 1;
    } catch (error) {
      if (error instanceof DuplicateTaskError) {
        refused += 1;
        logger.debug({ error: error.message }, 'duplicate refused by its uniqueness lock');
      } else {
        logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'enqueue failed');
      }
    }
  };

  let busy = false;
  const timer = setInterval(() => {
    // One enqueue at a time: while Redis is slow or down, ticks are skipped instead of piling up.
    if (stopped || busy) return;
    busy = true;
    inFlight = enqueueOne().finally(() => {
      busy = false;
    });
  }, 1000 / rate);
  const report = setInterval(() => {
    logger.info({ enqueued, refusedDuplicates: refused }, `producer: ${enqueued} tasks enqueued so far`);
  }, 15_000);

  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      clearInterval(report);
      await inFlight;
    },
  };
}
