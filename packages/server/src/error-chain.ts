/**
 * Helpers for errors thrown by handlers: they may throw anything, and may wrap our marker errors in
 * their own (`new Error('...', { cause: new SkipRetry() })`), as Go code wraps with `%w`.
 */

const maximumCauseDepth = 16;

/** True when `error` or an error in its `cause` chain carries `marker` (a `Symbol.for` key). */
export function errorChainHas(error: unknown, marker: symbol): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < maximumCauseDepth; depth += 1) {
    if (typeof current !== 'object' || current === null) return false;
    if ((current as Record<symbol, unknown>)[marker] === true) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

const describeValue = (value: unknown): string => {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    const text = JSON.stringify(value);
    if (text !== undefined) return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  } catch {
    // Falls through to String() for values JSON cannot show (cycles, BigInt).
  }
  return Object.prototype.toString.call(value);
};

/**
 * Turns whatever a handler threw or rejected with into an `Error` whose message says what happened, so
 * that the retry and archive records carry something useful.
 */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (
    typeof thrown === 'object' &&
    thrown !== null &&
    typeof (thrown as { message?: unknown }).message === 'string'
  ) {
    const error = new Error((thrown as { message: string }).message, { cause: thrown });
    error.name = 'NonErrorThrown';
    return error;
  }
  const error = new Error(
    `the handler threw a non-Error value (${typeof thrown}): ${describeValue(thrown)}; throw an Error instead`,
    { cause: thrown },
  );
  error.name = 'NonErrorThrown';
  return error;
}

/** The text stored as the task's last error. */
export function errorMessageOf(error: Error): string {
  return error.message === '' ? error.name || 'Error' : error.message;
}
