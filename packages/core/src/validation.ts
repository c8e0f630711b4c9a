import { ValidationError } from './errors';

const maxNameLength = 256;
// Braces are reserved for brokers, which may wrap a queue's name in them to keep its records together;
// control characters (Unicode's Cc: U+0000-U+001F, U+007F-U+009F) break terminals, logs and tools.
const forbiddenQueueCharacters = /[{}\p{Cc}]/u;

/**
 * The rule every queue name meets, in the words of the errors that enforce it. Go Asynq accepts any name
 * that is not blank; @q also refuses what would break its keys or its tools: braces (a broker may wrap
 * the queue's name in them to keep all its records in one place), control characters, and
 * surrounding whitespace (a name that differs from what a person reads). The client, the server's
 * `queues`, the inspector, the scheduler and the `q` command all check this one rule.
 */
export const queueNameRule = `a queue name is 1 to ${maxNameLength} characters, does not begin or end with whitespace, and contains no '{', '}' or control character (inner spaces and any other characters are allowed)`;

/**
 * What is wrong with `queue` as a queue name, such as `contains '{'`, or `undefined` when it meets
 * `queueNameRule`. For callers that report many problems at once; `assertQueueName` throws instead.
 */
export function queueNameProblem(queue: unknown): string | undefined {
  return findQueueNameProblem(queue)?.detail;
}

function findQueueNameProblem(queue: unknown): { detail: string; issue: string } | undefined {
  if (typeof queue !== 'string') return { detail: 'is not a string', issue: 'not a string' };
  if (queue.trim() === '') return { detail: 'is blank', issue: 'blank queue name' };
  if (queue !== queue.trim()) {
    return { detail: 'begins or ends with whitespace', issue: 'surrounding whitespace' };
  }
  const forbidden = forbiddenQueueCharacters.exec(queue)?.[0];
  if (forbidden !== undefined) {
    const shown = forbidden === '{' || forbidden === '}' ? `'${forbidden}'` : 'a control character';
    return { detail: `contains ${shown}`, issue: 'forbidden character' };
  }
  if (queue.length > maxNameLength) {
    return { detail: `is ${queue.length} characters long`, issue: 'too long' };
  }
  return undefined;
}

/**
 * Throws a `ValidationError` unless `queue` meets `queueNameRule`; the message names what is wrong and
 * states the rule. Returns the name unchanged.
 */
export function assertQueueName(queue: unknown, path = 'queue'): string {
  const problem = findQueueNameProblem(queue);
  if (problem) {
    const shown = typeof queue === 'string' ? JSON.stringify(queue) : `(${typeof queue})`;
    throw new ValidationError(`${path} ${shown} ${problem.detail}: ${queueNameRule}.`, [
      { path, message: problem.issue },
    ]);
  }
  return queue as string;
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
