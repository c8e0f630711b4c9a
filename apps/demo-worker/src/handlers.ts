/**
 * One handler per task type. Each receives the payload its schema parsed, does its (simulated) work
 * with the task's abort signal, and then fails if the producer asked it to.
 */
import type { Clock } from '@q/core';
import type { ServeMux } from '@q/server';
import { between, failIfAsked, simulateWork as simulateWorkOn } from './simulated-work';
import {
  aggregateEvents,
  capturePayment,
  cleanExpiredSessions,
  confirmOrder,
  dailySalesReport,
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

export interface HandlerDependencies {
  /** The clock the simulated work waits on: the real one, or a test's manual clock. */
  clock?: Clock;
}

export function registerHandlers(mux: ServeMux, { clock }: HandlerDependencies = {}): ServeMux {
  const encoder = new TextEncoder();
  const simulateWork = (milliseconds: number, signal: AbortSignal) =>
    simulateWorkOn(milliseconds, signal, clock);
  return mux
    .handle(capturePayment, async ({ payload }, context) => {
      await simulateWork(between(200, 800), context.signal);
      failIfAsked(payload.simulate, context.retryCount, `capture ${payload.amountCents} ${payload.currency}`);
    })
    .handle(refundPayment, async ({ payload }, context) => {
      await simulateWork(between(200, 600), context.signal);
      failIfAsked(payload.simulate, context.retryCount, `refund order ${payload.orderId}`);
    })
    .handle(confirmOrder, async ({ payload }, context) => {
      await simulateWork(between(100, 400), context.signal);
      failIfAsked(payload.simulate, context.retryCount, `confirm order ${payload.orderId}`);
    })
    .handle(sendPasswordReset, async ({ payload }, context) => {
      await simulateWork(between(100, 300), context.signal);
      failIfAsked(payload.simulate, context.retryCount, `password reset to ${payload.to}`);
    })
    .handle(sendVerificationCode, async ({ payload }, context) => {
      await simulateWork(between(50, 200), context.signal);
      failIfAsked(payload.simulate, context.retryCount, `SMS to ${payload.phone}`);
    })
    .handle(deliverWebhook, async ({ payload }, context) => {
      await simulateWork(between(100, Math.min(payload.attemptBudgetMs, 2000)), context.signal);
      failIfAsked(payload.simulate, context.retryCount, `webhook ${payload.event} to ${payload.endpoint}`);
    })
    .handle(sendWelcomeEmail, async ({ payload }, context) => {
      await simulateWork(between(200, 700), context.signal);
      failIfAsked(payload.simulate, context.retryCount, `welcome email to ${payload.to}`);
    })
    .handle(generateInvoicePdf, async ({ payload }, context) => {
      // The slow one: a few seconds, so that a shutdown has something to wait for.
      await simulateWork(payload.pages * between(150, 300), context.signal);
      failIfAsked(payload.simulate, context.retryCount, `invoice ${payload.invoiceId}`);
      await context.writeResult(encoder.encode(`invoices/${payload.invoiceId}.pdf`));
    })
    .handle(resizeImage, async ({ payload }, context) => {
      for (const _width of payload.widths) await simulateWork(between(100, 400), context.signal);
      failIfAsked(payload.simulate, context.retryCount, `resize image ${payload.imageId}`);
    })
    .handle(indexProduct, async ({ payload }, context) => {
      await simulateWork(between(50, 250), context.signal);
      failIfAsked(payload.simulate, context.retryCount, `index product ${payload.productId}`);
    })
    .handle(sendPushNotification, async ({ payload }, context) => {
      await simulateWork(between(50, 150), context.signal);
      failIfAsked(payload.simulate, context.retryCount, `push "${payload.title}"`);
    })
    .handle(syncInventory, async ({ payload }, context) => {
      await simulateWork(between(500, 2000), context.signal);
      failIfAsked(payload.simulate, context.retryCount, `sync warehouse ${payload.warehouseId}`);
    })
    .handle(dailySalesReport, async ({ payload }, context) => {
      await simulateWork(between(1000, 3000), context.signal);
      failIfAsked(payload.simulate, context.retryCount, `sales report for ${payload.region}`);
    })
    .handle(cleanExpiredSessions, async ({ payload }, context) => {
      await simulateWork(between(300, 1000), context.signal);
      failIfAsked(payload.simulate, context.retryCount, 'session cleanup');
    })
    .handle(aggregateEvents, async ({ payload }, context) => {
      await simulateWork(between(500, 2500), context.signal);
      failIfAsked(payload.simulate, context.retryCount, `aggregate ${payload.eventCount} events`);
    });
}
