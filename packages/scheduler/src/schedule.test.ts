import { ValidationError } from '@q/core';
import { describe, expect, it } from 'vitest';
import { parseSchedule, type Schedule } from './schedule';

const at = (iso: string): number => Date.parse(iso);
const iso = (time: number | undefined): string | undefined =>
  time === undefined ? undefined : new Date(time).toISOString();

/** The next `count` ticks after `from`, as ISO strings. */
function ticks(schedule: Schedule, from: string, count: number): string[] {
  const result: string[] = [];
  let time = at(from);
  for (let index = 0; index < count; index++) {
    time = schedule.next(time)!;
    result.push(iso(time)!);
  }
  return result;
}

/** Berlin wall-clock time of a UTC instant, e.g. "2026-03-29 03:30". */
const berlin = (text: string): string =>
  new Date(text).toLocaleString('sv-SE', { timeZone: 'Europe/Berlin' }).slice(0, 16);

describe('parseSchedule', () => {
  it('reads five cron fields in the given time zone', () => {
    const schedule = parseSchedule('*/15 9 * * 1-5', 'Europe/Berlin');
    expect(ticks(schedule, '2026-01-02T07:50:00Z', 3)).toEqual([
      '2026-01-02T08:00:00.000Z',
      '2026-01-02T08:15:00.000Z',
      '2026-01-02T08:30:00.000Z',
    ]);
    expect(schedule.timezone).toBe('Europe/Berlin');
  });

  it('reads six fields as a leading seconds field', () => {
    const schedule = parseSchedule('*/20 * * * * *', 'UTC');
    expect(ticks(schedule, '2026-01-01T00:00:05.500Z', 3)).toEqual([
      '2026-01-01T00:00:20.000Z',
      '2026-01-01T00:00:40.000Z',
      '2026-01-01T00:01:00.000Z',
    ]);
  });

  it.each([
    ['@hourly', '2026-01-01T01:00:00.000Z'],
    ['@daily', '2026-01-02T00:00:00.000Z'],
    ['@midnight', '2026-01-02T00:00:00.000Z'],
    ['@weekly', '2026-01-04T00:00:00.000Z'],
    ['@monthly', '2026-02-01T00:00:00.000Z'],
    ['@yearly', '2027-01-01T00:00:00.000Z'],
  ])('reads the descriptor %s', (spec, first) => {
    expect(ticks(parseSchedule(spec, 'UTC'), '2026-01-01T00:30:00Z', 1)).toEqual([first]);
  });

  it('takes the time zone of a CRON_TZ= or TZ= prefix over the scheduler default', () => {
    const tokyo = parseSchedule('CRON_TZ=Asia/Tokyo 0 9 * * *', 'Europe/Berlin');
    expect(tokyo.timezone).toBe('Asia/Tokyo');
    expect(ticks(tokyo, '2026-01-01T12:00:00Z', 1)).toEqual(['2026-01-02T00:00:00.000Z']);
    expect(parseSchedule('TZ=America/New_York @daily', 'UTC').next(at('2026-01-01T12:00:00Z'))).toBe(
      at('2026-01-02T05:00:00Z'),
    );
  });

  it('reads a lone "?" as "*", as robfig/cron does', () => {
    expect(ticks(parseSchedule('0 12 ? * MON', 'UTC'), '2026-01-01T00:00:00Z', 1)).toEqual([
      '2026-01-05T12:00:00.000Z',
    ]);
  });

  it('matches either day field when both are given (Vixie cron and robfig/cron)', () => {
    // The 13th, and every Friday.
    expect(ticks(parseSchedule('0 0 13 * 5', 'UTC'), '2026-02-01T00:00:00Z', 3)).toEqual([
      '2026-02-06T00:00:00.000Z',
      '2026-02-13T00:00:00.000Z',
      '2026-02-20T00:00:00.000Z',
    ]);
  });

  it('counts @every from the Unix epoch, so that processes started at different times agree', () => {
    const schedule = parseSchedule('@every 7m', 'Europe/Berlin');
    const next = schedule.next(at('2026-01-01T00:00:00Z'))!;
    expect(next % (7 * 60_000)).toBe(0);
    expect(schedule.next(next)).toBe(next + 7 * 60_000);
    expect(schedule.previous(next + 1000)).toBe(next);
    expect(schedule.previous(next)).toBe(next);
    expect(parseSchedule('@every 1h30m', 'UTC').next(0)).toBe(5_400_000);
    expect(schedule.timezone).toBeUndefined();
  });

  it('finds the latest tick at or before a time', () => {
    const daily = parseSchedule('30 2 * * *', 'UTC');
    expect(iso(daily.previous(at('2026-05-10T12:00:00Z')))).toBe('2026-05-10T02:30:00.000Z');
    expect(iso(daily.previous(at('2026-05-10T02:30:00Z')))).toBe('2026-05-10T02:30:00.000Z');
    expect(iso(daily.previous(at('2026-05-10T02:29:59Z')))).toBe('2026-05-09T02:30:00.000Z');
    const yearly = parseSchedule('0 0 29 2 *', 'UTC');
    expect(iso(yearly.previous(at('2027-06-01T00:00:00Z')))).toBe('2024-02-29T00:00:00.000Z');
    const bursty = parseSchedule('* 3 * * *', 'UTC');
    expect(iso(bursty.previous(at('2026-05-10T12:00:00Z')))).toBe('2026-05-10T03:59:00.000Z');
  });

  it.each([
    ['', 'empty'],
    ['* * * *', 'five or six'],
    ['* * * * * * *', 'five or six'],
    ['61 * * * *', 'minute'],
    ['0 0 30 2 *', 'never fires'],
    ['@every', '@every needs a duration'],
    ['@every 500ms', 'at least 1s'],
    ['@every 1.5s', 'whole number of seconds'],
    ['@every 5 minutes', 'not a Go duration'],
    ['@fortnightly', 'five or six'],
    ['CRON_TZ=Mars/Olympus 0 * * * *', 'time zone'],
    ['CRON_TZ= 0 * * * *', 'names no time zone'],
    ['CRON_TZ=UTC', 'nothing follows'],
    ['0 ?/5 * * *', 'whole field'],
  ])('refuses %j with a ValidationError that says why', (spec, reason) => {
    let caught: unknown;
    try {
      parseSchedule(spec, 'UTC');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as Error).message).toContain(reason);
  });

  it('refuses an unknown default time zone', () => {
    expect(() => parseSchedule('@daily', 'Europe/Atlantis')).toThrow(/not a time zone this runtime knows/);
  });
});

// croner computes wall-clock times in the zone and maps a wall time to an instant with its minitz
// helper, which documents that a time inside a DST gap is "adjusted" (moved forward by the gap) and
// which resolves a repeated wall time to one instant. The tests pin what that means for our ticks.
describe('daylight saving time in Europe/Berlin (croner 9.1.0)', () => {
  it('spring forward, 2026-03-29 02:00 -> 03:00: a daily 02:30 runs at 03:30 that day, once', () => {
    const schedule = parseSchedule('30 2 * * *', 'Europe/Berlin');
    const runs = ticks(schedule, '2026-03-27T12:00:00Z', 4);
    expect(runs.map(berlin)).toEqual([
      '2026-03-28 02:30',
      '2026-03-29 03:30',
      '2026-03-30 02:30',
      '2026-03-31 02:30',
    ]);
    expect(runs[1]).toBe('2026-03-29T01:30:00.000Z');
  });

  it('spring forward: an hourly entry runs 23 times on the 23-hour day, never twice at one instant', () => {
    const schedule = parseSchedule('0 * * * *', 'Europe/Berlin');
    const runs = ticks(schedule, '2026-03-28T22:59:00Z', 23);
    expect(runs.map(berlin).slice(0, 4)).toEqual([
      '2026-03-29 00:00',
      '2026-03-29 01:00',
      '2026-03-29 03:00',
      '2026-03-29 04:00',
    ]);
    expect(new Set(runs).size).toBe(23);
    expect(berlin(runs[22]!)).toBe('2026-03-29 23:00');
  });

  it('fall back, 2026-10-25 03:00 -> 02:00: a daily 02:30 runs once, at the second 02:30 (CET)', () => {
    const schedule = parseSchedule('30 2 * * *', 'Europe/Berlin');
    const runs = ticks(schedule, '2026-10-23T12:00:00Z', 3);
    expect(runs).toEqual([
      '2026-10-24T00:30:00.000Z',
      '2026-10-25T01:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
  });

  it('fall back: an hourly entry runs once per wall-clock hour, 24 times on the 25-hour day', () => {
    const schedule = parseSchedule('0 * * * *', 'Europe/Berlin');
    const runs = ticks(schedule, '2026-10-24T21:59:00Z', 24);
    // 01:00 CEST is 23:00Z; 02:00 happens twice (00:00Z CEST, 01:00Z CET) and runs only at the second.
    expect(runs.slice(0, 4)).toEqual([
      '2026-10-24T22:00:00.000Z',
      '2026-10-24T23:00:00.000Z',
      '2026-10-25T01:00:00.000Z',
      '2026-10-25T02:00:00.000Z',
    ]);
    expect(berlin(runs[23]!)).toBe('2026-10-25 23:00');
    expect(schedule.next(at(runs[23]!))).toBe(at('2026-10-25T23:00:00Z'));
  });

  it('previous() agrees with next() across both changes', () => {
    const schedule = parseSchedule('*/30 * * * *', 'Europe/Berlin');
    for (const from of ['2026-03-28T23:00:00Z', '2026-10-24T22:00:00Z']) {
      const runs = ticks(schedule, from, 8).map(at);
      for (const run of runs) {
        expect(schedule.previous(run)).toBe(run);
        expect(schedule.next(schedule.previous(run + 1000)!)).toBe(schedule.next(run));
      }
    }
  });
});
