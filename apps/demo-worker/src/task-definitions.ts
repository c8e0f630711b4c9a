/**
 * The demo's 15 task types, each a `defineTask` with a zod schema: producers are type-checked and
 * validated before anything reaches Redis, and handlers receive the parsed payload. The `queue` default
 * puts each type in one of the three queues (critical: 6, default: 3, low: 1).
 *
 * `simulate` lets the producer ask for a failure, so that retries and archiving show up in the demo.
 */
import { defineTask } from '@q/core';
import { z } from 'zod';

const simulate = z.enum(['ok', 'flaky', 'broken']).default('ok');

// critical: money and logins, where a user is waiting.
export const capturePayment = defineTask(
  'payment:capture',
  z.object({
    orderId: z.string(),
    amountCents: z.number().int().positive(),
    currency: z.string().length(3),
    simulate,
  }),
  { queue: 'critical', maxRetry: 5, timeout: '10s' },
);
export const refundPayment = defineTask(
  'payment:refund',
  z.object({ orderId: z.string(), amountCents: z.number().int().positive(), reason: z.string(), simulate }),
  { queue: 'critical', maxRetry: 5, timeout: '10s' },
);
export const confirmOrder = defineTask(
  'order:confirm',
  z.object({ orderId: z.string(), customerId: z.string(), simulate }),
  { queue: 'critical', maxRetry: 8, timeout: '15s' },
);
export const sendPasswordReset = defineTask(
  'email:password-reset',
  z.object({ to: z.email(), resetToken: z.string().min(16), simulate }),
  { queue: 'critical', maxRetry: 3, timeout: '10s' },
);
export const sendVerificationCode = defineTask(
  'sms:verification-code',
  z.object({ phone: z.string().regex(/^\+\d{8,15}$/), code: z.string().length(6), simulate }),
  { queue: 'critical', maxRetry: 3, timeout: '5s' },
);
export const deliverWebhook = defineTask(
  'webhook:deliver',
  z.object({ endpoint: z.url(), event: z.string(), attemptBudgetMs: z.number().int().positive(), simulate }),
  { queue: 'critical', maxRetry: 4, timeout: '20s' },
);

// default: work a user notices within minutes.
export const sendWelcomeEmail = defineTask(
  'email:welcome',
  z.object({ userId: z.string(), to: z.email(), simulate }),
  // One welcome per user: a second enqueue within the hour is refused as a duplicate.
  { queue: 'default', maxRetry: 5, unique: '1h' },
);
export const generateInvoicePdf = defineTask(
  'invoice:generate-pdf',
  z.object({ invoiceId: z.string(), pages: z.number().int().min(1).max(50), simulate }),
  { queue: 'default', maxRetry: 3, timeout: '1m', retention: '10m' },
);
export const resizeImage = defineTask(
  'image:resize',
  z.object({ imageId: z.string(), widths: z.array(z.number().int().positive()).min(1), simulate }),
  { queue: 'default', maxRetry: 3, timeout: '30s' },
);
export const indexProduct = defineTask(
  'search:index-product',
  z.object({ productId: z.string(), fields: z.array(z.string()), simulate }),
  { queue: 'default', maxRetry: 10 },
);
export const sendPushNotification = defineTask(
  'notification:push',
  z.object({ deviceToken: z.string(), title: z.string(), body: z.string(), simulate }),
  { queue: 'default', maxRetry: 2, timeout: '5s' },
);
export const syncInventory = defineTask(
  'inventory:sync',
  z.object({ warehouseId: z.string(), skuCount: z.number().int().nonnegative(), simulate }),
  { queue: 'default', maxRetry: 5, timeout: '1m' },
);

// low: housekeeping nobody waits for.
export const dailySalesReport = defineTask('report:daily-sales', z.object({ region: z.string(), simulate }), {
  queue: 'low',
  maxRetry: 2,
  timeout: '2m',
});
export const cleanExpiredSessions = defineTask(
  'cleanup:expired-sessions',
  z.object({ olderThanHours: z.number().int().positive(), simulate }),
  { queue: 'low', maxRetry: 1, timeout: '1m' },
);
export const aggregateEvents = defineTask(
  'analytics:aggregate-events',
  z.object({ hour: z.iso.datetime(), eventCount: z.number().int().nonnegative(), simulate }),
  { queue: 'low', maxRetry: 3, timeout: '2m' },
);

/** Concurrency 10 over three weighted queues: the configuration of the outage @q was born from. */
export const queues = { critical: 6, default: 3, low: 1 } as const;
