import { ValidationError } from './errors';

const maxNameLength = 256;
// Braces would break the hash tag that keeps a queue in one cluster slot; control characters break tools.
// eslint-disable-next-line no-control-regex
const forbiddenQueueCharacters = /[{}\u0000-\u001f\u007f]/;

/** Throws a `ValidationError` unless `queue` is a usable queue name. Returns it unchanged. */
export function assertQueueName(queue: unknown, path = 'queue'): string {
  if (typeof queue !== 'string' || queue.trim() === '') {
    throw new ValidationError(`${path} must be a non-empty string, got ${JSON.stringify(queue)}.`, [
      { path, message: 'blank queue name' },
    ]);
  }
  if (queue !== queue.trim()) {
    throw new ValidationError(`${path} "${queue}" has leading or trailing spaces; remove them.`, [
      { path, message: 'surrounding whitespace' },
    ]);
  }
  if (forbiddenQueueCharacters.test(queue)) {
    throw new ValidationError(
      `${path} "${queue}" contains '{', '}' or a control character; use letters, digits, ':', '-', '_' or '.'.`,
      [{ path, message: 'forbidden character' }],
    );
  }
  if (queue.length > maxNameLength) {
    throw new ValidationError(`${path} is ${queue.length} characters long; keep it under ${maxNameLength}.`, [
      { path, message: 'too long' },
    ]);
  }
  return queue;
}

/** Throws a `ValidationError` unless `type` is a usable task type. Returns it unchanged. */
export function assertTaskType(type: unknown, path = 'type'): string {
  if (typeof type !== 'string' || type.trim() === '') {
    throw new ValidationError(
      `${path} must be a non-empty string such as 'email:send', got ${JSON.stringify(type)}.`,
      [{ path, message: 'blank task type' }],
    );
  }
  if (type.length > maxNameLength) {
    throw new ValidationError(`${path} is ${type.length} characters long; keep it under ${maxNameLength}.`, [
      { path, message: 'too long' },
    ]);
  }
  return type;
}

/** Throws a `ValidationError` listing the keys of `value` that are not in `allowed`. */
export function assertKnownKeys(value: object, allowed: readonly string[], path: string): void {
  const unknown = Object.keys(value).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new ValidationError(
      `Unknown ${path} ${unknown.map((key) => `"${key}"`).join(', ')}; the accepted ones are ${allowed.join(', ')}.`,
      unknown.map((key) => ({ path: `${path}.${key}`, message: 'unknown option' })),
    );
  }
}
