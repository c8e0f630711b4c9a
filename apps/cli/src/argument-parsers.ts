/** Parsers for flag values; each throws a usage error that says what is accepted. */
import { isTaskState, taskStates, toMilliseconds, type TaskState } from '@q/core';
import { InvalidArgumentError } from 'commander';

export function parsePositiveInteger(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError('expected a positive whole number.');
  }
  return value;
}

export function parseNonNegativeInteger(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw new InvalidArgumentError('expected a whole number, 0 or more.');
  }
  return value;
}

/** Go-style or @q durations: `30s`, `1m30s`, `1500ms`, `2h`, or milliseconds. */
export function parseDuration(text: string): number {
  try {
    return toMilliseconds(text);
  } catch {
    throw new InvalidArgumentError("expected a duration such as '30s', '1m30s', '1500ms' or '2h'.");
  }
}

/** RFC 3339 times such as `2026-12-14T01:23:45Z`. */
export function parseTime(text: string): Date {
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError("expected an RFC 3339 time such as '2026-12-14T01:23:45Z'.");
  }
  return date;
}

export function stateParser(allowed: readonly TaskState[] = taskStates): (text: string) => TaskState {
  return (text) => {
    if (!isTaskState(text) || !allowed.includes(text)) {
      throw new InvalidArgumentError(`expected one of ${allowed.join(' | ')}.`);
    }
    return text;
  };
}

export function parsePort(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > 65_535)
    throw new InvalidArgumentError('expected a port number, 0 to 65535.');
  return value;
}
