import { defineTask, jsonCodec, ValidationError } from '@q/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { prepareEntry, tickTaskId, type EntryOptions, type ScheduledTask } from './scheduler-entry';

const context = { timezone: 'UTC', codec: jsonCodec };
const prepare = (spec: string, task: ScheduledTask, options?: EntryOptions) =>
  prepareEntry(spec, task, options, context);

describe('prepareEntry', () => {
  it('gives the same (spec, task) the same UUID-shaped id in every process', () => {
    const task = { type: 'report', payload: { a: 1 }, options: { queue: 'low', timeout: '1m' } };
    const first = prepare('*/5 * * * *', task);
    const second = prepare('*/5 * * * *', { ...task, options: { timeout: 60_000, queue: 'low' } });
    expect(first.id).toBe(second.id);
    expect(first.fingerprint).toBe(second.fingerprint);
    expect(first.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('gives a different id when anything enqueued changes', () => {
    const base = prepare('@daily', { type: 'report', payload: { a: 1 }, options: { queue: 'low' } }).id;
    const variants = [
      prepare('@hourly', { type: 'report', payload: { a: 1 }, options: { queue: 'low' } }),
      prepare('@daily', { type: 'report2', payload: { a: 1 }, options: { queue: 'low' } }),
      prepare('@daily', { type: 'report', payload: { a: 2 }, options: { queue: 'low' } }),
      prepare('@daily', { type: 'report', payload: { a: 1 }, options: { queue: 'high' } }),
      prepare('@daily', {
        type: 'report',
        payload: { a: 1 },
        options: { queue: 'low', headers: { x: '1' } },
      }),
      prepareEntry('@daily', { type: 'report', payload: { a: 1 }, options: { queue: 'low' } }, undefined, {
        ...context,
        timezone: 'Europe/Berlin',
      }),
    ];
    for (const variant of variants) expect(variant.id).not.toBe(base);
  });

  it('does not tie @every entries to the scheduler time zone, which they do not use', () => {
    const utc = prepare('@every 1m', { type: 'tick' });
    const berlin = prepareEntry('@every 1m', { type: 'tick' }, undefined, {
      ...context,
      timezone: 'Europe/Berlin',
    });
    expect(berlin.id).toBe(utc.id);
  });

  it('uses the id given, and changes only the fingerprint with the policy', () => {
    const skip = prepare('@daily', { type: 'report' }, { id: 'nightly-report' });
    const once = prepare('@daily', { type: 'report' }, { id: 'nightly-report', missedTicks: 'once' });
    expect(skip.id).toBe('nightly-report');
    expect(once.id).toBe('nightly-report');
    expect(once.fingerprint).not.toBe(skip.fingerprint);
    expect(skip.missedTicks).toBe('skip');
  });

  it('encodes the payload once and publishes Asynq option strings', () => {
    const entry = prepare('@daily', {
      type: 'email:digest',
      payload: { to: 'a@example.com' },
      options: { queue: 'low', maxRetry: 3, timeout: '1m' },
    });
    expect(new TextDecoder().decode(entry.payload)).toBe('{"to":"a@example.com"}');
    expect(entry.optionStrings).toEqual(['Queue("low")', 'MaxRetry(3)', 'Timeout(1m0s)']);
  });

  it('rounds a timeout and a retention up to whole seconds, as the client stores them', () => {
    const entry = prepare('@daily', { type: 'x', options: { timeout: '1500ms', retention: 500 } });
    expect(entry.options).toMatchObject({ timeout: 2000, retention: 1000 });
    expect(entry.optionStrings).toEqual(['Timeout(2s)', 'Retention(1s)']);
    const whole = prepare('@daily', { type: 'x', options: { timeout: '2s' } });
    expect(whole.options.timeout).toBe(2000);
  });

  it('validates a defineTask payload and applies its defaults', () => {
    const digest = defineTask('email:digest', z.object({ to: z.email() }), { queue: 'mail' });
    const entry = prepare('@daily', { type: digest, payload: { to: 'a@example.com' } });
    expect(entry.type).toBe('email:digest');
    expect(entry.options.queue).toBe('mail');
    expect(() => prepare('@daily', { type: digest, payload: { to: 'nope' } })).toThrow(/payload\.to/);
  });

  it('refuses an asynchronous schema, which cannot be checked at registration', () => {
    const asyncSchema = defineTask(
      'x',
      z.object({ a: z.string() }).refine(() => Promise.resolve(true)),
    );
    expect(() => prepare('@daily', { type: asyncSchema, payload: { a: 'b' } })).toThrow(/synchronous schema/);
  });

  it.each([
    [{ taskId: 'fixed' }, 'register(spec, task, { id })'],
    [{ processAt: Date.now() + 1000 }, 'use processIn'],
    [{ deadline: Date.now() + 1000 }, 'use timeout'],
    [{ queue: '' }, 'queue'],
    [{ maxRetry: -1 }, 'maxRetry'],
    [{ unique: '10ms' }, 'at least 1s'],
    [{ retention: 'soon' }, 'retention'],
    [{ group: ' ' }, 'group'],
    [{ priority: 3 }, 'Unknown'],
  ])('refuses options %j with a ValidationError', (options, reason) => {
    expect(() => prepare('@daily', { type: 'x', options: options as never })).toThrow(ValidationError);
    expect(() => prepare('@daily', { type: 'x', options: options as never })).toThrow(reason);
  });

  it.each([
    [{ id: '' }, 'entry.id'],
    [{ id: 'has space' }, 'entry.id'],
    [{ missedTicks: 'all' }, 'missedTicks'],
    [{ retries: 1 }, 'Unknown'],
  ])('refuses entry options %j', (options, reason) => {
    expect(() => prepare('@daily', { type: 'x' }, options as never)).toThrow(reason);
  });

  it('refuses a blank type and an invalid spec', () => {
    expect(() => prepare('@daily', { type: '' })).toThrow(ValidationError);
    expect(() => prepare('every day', { type: 'x' })).toThrow(/Schedule spec "every day" is invalid/);
  });
});

describe('tickTaskId', () => {
  it('names the entry and the tick', () => {
    expect(tickTaskId('nightly', Date.parse('2026-03-29T01:00:00Z'))).toBe('nightly@2026-03-29T01:00:00Z');
  });
});
