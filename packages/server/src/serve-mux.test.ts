import { defineTask } from '@q/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Task, TaskContext } from './handler';
import { HandlerNotFoundError, ServeMux } from './serve-mux';
import { SkipRetry } from './skip-retry';

const task = (type: string, payload: unknown = {}): Task => ({
  id: 'id-1',
  type,
  queue: 'default',
  payload,
  payloadBytes: new Uint8Array(0),
  headers: {},
  retried: 0,
  maxRetry: 25,
});
const context = {} as TaskContext;

describe('ServeMux', () => {
  it('routes to the exact type first, then to the longest prefix', async () => {
    const seen: string[] = [];
    const mux = new ServeMux()
      .handle('email:', () => void seen.push('email:'))
      .handle('email:send', () => void seen.push('email:send'))
      .handle('email:send:', () => void seen.push('email:send:'))
      .handle('e', () => void seen.push('e'));
    await mux.processTask(task('email:send'), context);
    await mux.processTask(task('email:send:bulk'), context);
    await mux.processTask(task('email:welcome'), context);
    await mux.processTask(task('export'), context);
    expect(seen).toEqual(['email:send', 'email:send:', 'email:', 'e']);
  });

  it('fails a task nothing handles with an error that says what to register', async () => {
    const mux = new ServeMux().handle('a', () => undefined);
    const failure = mux.processTask(task('image:resize'), context);
    await expect(failure).rejects.toBeInstanceOf(HandlerNotFoundError);
    await expect(failure).rejects.toThrow(/no handler for task type "image:resize".*mux\.handle/);
  });

  it('runs middleware around every handler, the first registered outermost', async () => {
    const order: string[] = [];
    const mux = new ServeMux()
      .use(async (_task, _context, next) => {
        order.push('outer:before');
        await next();
        order.push('outer:after');
      })
      .use(async (_task, _context, next) => {
        order.push('inner:before');
        await next();
        order.push('inner:after');
      })
      .handle('x', () => void order.push('handler'));
    await mux.processTask(task('x'), context);
    expect(order).toEqual(['outer:before', 'inner:before', 'handler', 'inner:after', 'outer:after']);
  });

  it('lets middleware see a not-found failure and short-circuit', async () => {
    const mux = new ServeMux().use(async (_task, _context, next) => {
      await expect(next()).rejects.toBeInstanceOf(HandlerNotFoundError);
    });
    await expect(mux.processTask(task('unknown'), context)).resolves.toBeUndefined();
  });

  it('validates typed payloads and archives (SkipRetry) when the schema refuses them', async () => {
    const sendEmail = defineTask('email:send', z.object({ to: z.string().email() }));
    const received: { to: string }[] = [];
    const mux = new ServeMux().handle(sendEmail, (typed) => void received.push(typed.payload));
    await mux.processTask(task('email:send', { to: 'a@example.com' }), context);
    expect(received).toEqual([{ to: 'a@example.com' }]);
    const failure = mux.processTask(task('email:send', { to: 42 }), context);
    await expect(failure).rejects.toBeInstanceOf(SkipRetry);
    await expect(failure).rejects.toThrow(/payload\.to/);
  });

  it('refuses duplicate and blank patterns and non-handlers', () => {
    const mux = new ServeMux().handle('a', () => undefined);
    expect(() => mux.handle('a', () => undefined)).toThrow(/already registered/);
    expect(() => mux.handle(' ', () => undefined)).toThrow(/pattern must be/);
    expect(() => mux.handle('b', 42 as never)).toThrow(/handler must be/);
    expect(() => mux.use('x' as never)).toThrow(/middleware must be a function/);
  });

  it('accepts handler objects and a custom not-found handler', async () => {
    const seen: string[] = [];
    const mux = new ServeMux()
      .handle('obj', {
        processTask: (t) => {
          seen.push(t.type);
          return Promise.resolve();
        },
      })
      .notFound((t) => void seen.push(`missing ${t.type}`));
    await mux.processTask(task('obj'), context);
    await mux.processTask(task('other'), context);
    expect(seen).toEqual(['obj', 'missing other']);
  });

  it('refuses a middleware that calls next twice', async () => {
    const mux = new ServeMux()
      .use(async (_task, _context, next) => {
        await next();
        await next();
      })
      .handle('x', () => undefined);
    await expect(mux.processTask(task('x'), context)).rejects.toThrow(/next\(\) more than once/);
  });
});
