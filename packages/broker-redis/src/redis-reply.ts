/** Readers for script replies, which arrive as untyped nested arrays of numbers, strings and Buffers. */
import { BrokerError } from '@q/core';

export function replyNumber(reply: unknown): number {
  if (typeof reply === 'number') return reply;
  if (typeof reply === 'string' || Buffer.isBuffer(reply)) {
    const value = Number(reply.toString());
    if (Number.isFinite(value)) return value;
  }
  throw new BrokerError(`Redis answered ${describe(reply)} where a number was expected.`);
}

export function replyArray(reply: unknown): unknown[] {
  if (Array.isArray(reply)) return reply as unknown[];
  throw new BrokerError(`Redis answered ${describe(reply)} where a list was expected.`);
}

export function replyText(reply: unknown): string {
  if (typeof reply === 'string') return reply;
  if (Buffer.isBuffer(reply)) return reply.toString('utf8');
  if (typeof reply === 'number') return String(reply);
  throw new BrokerError(`Redis answered ${describe(reply)} where text was expected.`);
}

/** Bytes, or undefined for a nil reply. */
export function replyBytes(reply: unknown): Uint8Array | undefined {
  if (reply === null || reply === undefined || reply === false) return undefined;
  if (Buffer.isBuffer(reply)) return reply;
  if (typeof reply === 'string') return Buffer.from(reply, 'utf8');
  throw new BrokerError(`Redis answered ${describe(reply)} where bytes were expected.`);
}

/** Splits a flat reply into tuples of `size`. */
export function replyTuples(reply: unknown, size: number): unknown[][] {
  const flat = replyArray(reply);
  const tuples: unknown[][] = [];
  for (let index = 0; index + size <= flat.length; index += size)
    tuples.push(flat.slice(index, index + size));
  return tuples;
}

function describe(reply: unknown): string {
  if (reply === null || reply === undefined) return 'nil';
  if (Array.isArray(reply)) return 'a list';
  return typeof reply;
}
