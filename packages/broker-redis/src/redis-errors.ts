/**
 * Maps what ioredis and Redis throw to @q's typed errors, so callers can tell "Redis is down" and
 * "Redis is full" from other failures. The original error is kept as `cause`, stripped of the command
 * arguments ioredis attaches (an AUTH argument is a password).
 */
import { BrokerError, BrokerOutOfMemoryError, BrokerUnavailableError, QError } from '@q/core';

const unavailablePatterns = [
  /Connection is closed/i,
  /\bECONN(REFUSED|RESET|ABORTED)\b/,
  /\bETIMEDOUT\b/,
  /\bEHOSTUNREACH\b/,
  /\bENETUNREACH\b/,
  /\bENOTFOUND\b/,
  /\bEAI_AGAIN\b/,
  /\bEPIPE\b/,
  /Stream isn't writeable/i,
  /enableOfflineQueue/,
  /max retries per request/i,
  /None of startup nodes is available/i,
  /Cluster is (disconnected|disconnecting)/i,
  /Node is disconnected/i,
  /Failed to refresh slots cache/i,
  /All sentinels are unreachable/i,
  /Command timed out/i,
  /Socket timeout/i,
  /^(CLUSTERDOWN|LOADING|MASTERDOWN|TRYAGAIN|READONLY)\b/,
];

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** A copy of `error` without the command and arguments ioredis attaches to it. */
function sanitized(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const copy = new Error(error.message);
  copy.name = error.name;
  if (error.stack) copy.stack = error.stack;
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) Object.assign(copy, { code });
  return copy;
}

/** True when `error` says Redis could not be reached rather than that it refused the operation. */
export function isUnavailableError(error: unknown): boolean {
  const text = errorText(error);
  const name = error instanceof Error ? error.name : '';
  return name === 'MaxRetriesPerRequestError' || unavailablePatterns.some((pattern) => pattern.test(text));
}

/**
 * Turns anything thrown while running `operation` into a `QError`: @q errors pass through, OOM becomes
 * `BrokerOutOfMemoryError`, an unreachable Redis `BrokerUnavailableError`, the rest `BrokerError`.
 */
export function toBrokerError(error: unknown, operation: string): QError {
  if (QError.is(error)) return error;
  const text = errorText(error);
  const cause = sanitized(error);
  if (/^OOM\b/.test(text)) {
    return new BrokerOutOfMemoryError(
      `Redis refused ${operation} because it is out of memory (${text}); free memory or raise maxmemory, then retry.`,
      { cause },
    );
  }
  if (isUnavailableError(error)) {
    return new BrokerUnavailableError(
      `Redis could not be reached during ${operation} (${text}); check that it is running and reachable, then retry.`,
      { cause },
    );
  }
  return new BrokerError(`Redis failed ${operation}: ${text}`, { cause });
}
