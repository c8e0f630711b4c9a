/**
 * Turns a spec into tick times. Cron fields, descriptors and time zones are croner's; `@every` and the
 * `CRON_TZ=` / `TZ=` prefixes are read here because croner has no such syntax. Every tick is a whole
 * second, and every process computes the same ticks for the same spec: that is what lets many copies
 * of a scheduler agree on which tick they are enqueueing.
 */
import { ValidationError } from '@q/core';
import { Cron } from 'croner';
import { parseGoDuration } from './go-duration';

export interface Schedule {
  /** The spec as given, prefixes included. */
  readonly spec: string;
  /** The IANA time zone ticks are computed in; undefined for `@every`, which does not depend on one. */
  readonly timezone: string | undefined;
  /** The first tick strictly after `time` (Unix milliseconds), or undefined when there is none. */
  next(time: number): number | undefined;
  /** The last tick at or before `time`, or undefined when there is none within about eight years. */
  previous(time: number): number | undefined;
}

const specHelp =
  'use five cron fields (minute hour day-of-month month day-of-week), six with a leading seconds field, ' +
  '"@every <Go duration>" such as "@every 30s", or @yearly, @monthly, @weekly, @daily, @midnight, @hourly; ' +
  'prefix "CRON_TZ=<IANA zone> " for a time zone';

// croner knows these except @midnight (robfig/cron's synonym for @daily).
const descriptors: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** How far back `previous` looks: past any yearly tick, and a leap-day one. */
const maximumLookBack = 2 ** 38; // about 8.7 years in milliseconds

/**
 * Parses `spec` for a scheduler whose default time zone is `timezone`. Throws a `ValidationError` that
 * says what is wrong for an invalid spec or time zone, or a cron expression that never fires.
 */
export function parseSchedule(spec: string, timezone: string): Schedule {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw invalid(spec, 'it is empty');
  }
  let body = spec.trim();
  let zone = timezone;
  const prefix = /^(?:CRON_TZ|TZ)=(\S*)\s*/.exec(body);
  if (prefix) {
    zone = prefix[1]!;
    body = body.slice(prefix[0].length);
    if (zone === '') throw invalid(spec, 'the CRON_TZ= prefix names no time zone');
    if (body === '') throw invalid(spec, 'nothing follows the CRON_TZ= prefix');
  }
  assertTimezone(zone, prefix ? `the time zone in "${spec}"` : 'timezone');

  const every = /^@every\s+(.+)$/i.exec(body);
  if (every) return everySchedule(spec, every[1]!);
  if (body.startsWith('@every')) throw invalid(spec, '@every needs a duration, e.g. "@every 30s"');

  const pattern = descriptors[body.toLowerCase()] ?? body.split(/\s+/).map(unquestion).join(' ');
  if (pattern.includes('?')) throw invalid(spec, '"?" is accepted only as a whole field, meaning "*"');
  let cron: Cron;
  try {
    // legacyMode: a day-of-month and a day-of-week both given match either one, as in Vixie cron and
    // robfig/cron (Go Asynq).
    cron = new Cron(pattern, { timezone: zone, legacyMode: true });
  } catch (error) {
    throw invalid(spec, (error as Error).message.replace(/^CronPattern: /, '').replace(/\.$/, ''), error);
  }
  const next = (time: number): number | undefined => cron.nextRun(new Date(time))?.getTime();
  if (next(Date.now()) === undefined) throw invalid(spec, 'it never fires (no matching date)');
  return {
    spec,
    timezone: zone,
    next,
    previous: (time) => previousTick(next, time),
  };
}

/** Throws a `ValidationError` unless `timezone` is an IANA time zone this runtime knows. */
export function assertTimezone(timezone: unknown, path = 'timezone'): string {
  if (typeof timezone !== 'string' || timezone.trim() === '') {
    throw new ValidationError(
      `${path} must be an IANA time zone such as "Europe/Berlin" or "UTC", got ${JSON.stringify(timezone)}.`,
      [{ path, message: 'not a time zone' }],
    );
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch (error) {
    throw new ValidationError(
      `${path} "${timezone}" is not a time zone this runtime knows; use an IANA name such as "Europe/Berlin", "America/New_York" or "UTC".`,
      [{ path, message: 'unknown time zone' }],
      { cause: error },
    );
  }
  return timezone;
}

/**
 * `@every` ticks are counted from the Unix epoch, not from when a process started (as robfig/cron
 * does), so that every copy of a scheduler ticks at the same instants.
 */
function everySchedule(spec: string, durationText: string): Schedule {
  const interval = parseGoDuration(durationText, `the duration in "${spec}"`);
  if (interval < 1000 || !Number.isInteger(interval / 1000)) {
    throw invalid(spec, `@every takes a whole number of seconds, at least 1s, got "${durationText.trim()}"`);
  }
  return {
    spec,
    timezone: undefined,
    next: (time) => (Math.floor(time / interval) + 1) * interval,
    previous: (time) => Math.floor(time / interval) * interval,
  };
}

/**
 * croner only looks forward: widen a window back from `time` until it holds a tick, then walk forward
 * through the window to the last one.
 */
function previousTick(next: (time: number) => number | undefined, time: number): number | undefined {
  for (let span = 1000; span <= maximumLookBack; span *= 2) {
    let latest = next(time - span);
    if (latest === undefined || latest > time) continue;
    for (;;) {
      const following = next(latest);
      if (following === undefined || following > time) return latest;
      latest = following;
    }
  }
  return undefined;
}

/** robfig/cron reads a lone `?` as `*`; croner would put the current time there, which copies disagree on. */
function unquestion(field: string): string {
  return field === '?' ? '*' : field;
}

function invalid(spec: unknown, reason: string, cause?: unknown): ValidationError {
  return new ValidationError(
    `Schedule spec ${JSON.stringify(spec)} is invalid: ${reason}. ${specHelp[0]!.toUpperCase()}${specHelp.slice(1)}.`,
    [{ path: 'spec', message: reason }],
    cause === undefined ? undefined : { cause },
  );
}
