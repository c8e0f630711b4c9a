import { ValidationError } from '@q/core';
import { describe, expect, it } from 'vitest';
import { createManualClock } from './manual-clock';

const start = Date.UTC(2026, 0, 1);

describe('createManualClock', () => {
  it('stands still until moved, then runs due timers in time order', async () => {
    const clock = createManualClock({ now: new Date(start) });
    const ran: string[] = [];
    clock.setTimeout(() => ran.push(`b@${clock.now() - start}`), 2000);
    clock.setTimeout(() => ran.push(`a@${clock.now() - start}`), 1000);
    clock.setTimeout(() => ran.push(`c@${clock.now() - start}`), 2000);
    expect(clock.now()).toBe(start);
    expect(clock.pendingTimers).toBe(3);
    await clock.advance(1999);
    expect(ran).toEqual(['a@1000']);
    expect(clock.now()).toBe(start + 1999);
    await clock.advance('1s');
    expect(ran).toEqual(['a@1000', 'b@2000', 'c@2000']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('runs timers that timers set, and lets the work they start settle first', async () => {
    const clock = createManualClock({ now: start });
    const ran: number[] = [];
    const tick = async (): Promise<void> => {
      await Promise.resolve();
      await new Promise((resolve) => setImmediate(resolve));
      ran.push(clock.now() - start);
      if (ran.length < 5) clock.setTimeout(() => void tick(), 100);
    };
    clock.setTimeout(() => void tick(), 100);
    await clock.advance(1000);
    expect(ran).toEqual([100, 200, 300, 400, 500]);
  });

  it('never runs a cleared timer', async () => {
    const clock = createManualClock({ now: start });
    let ran = false;
    const handle = clock.setTimeout(() => (ran = true), 10);
    clock.clearTimeout(handle);
    clock.clearTimeout(handle);
    await clock.advance(100);
    expect(ran).toBe(false);
  });

  it('advances until a condition holds, and says when it never does', async () => {
    const clock = createManualClock({ now: start });
    let count = 0;
    const every = (): void => {
      count += 1;
      clock.setTimeout(every, 1000);
    };
    clock.setTimeout(every, 1000);
    await clock.advanceUntil(() => count === 3);
    expect(clock.now()).toBe(start + 3000);
    await expect(clock.advanceUntil(() => false, { limit: '10s' })).rejects.toThrow(/10000 ms of clock time/);
    const idle = createManualClock({ now: start });
    await expect(idle.advanceUntil(() => false)).rejects.toThrow(/no timer is left/);
  });

  it('moves to a given time and refuses what is not one', async () => {
    const clock = createManualClock({ now: start });
    await clock.advanceTo(new Date(start + 60_000));
    expect(clock.now()).toBe(start + 60_000);
    await clock.advanceTo(start);
    expect(clock.now()).toBe(start + 60_000);
    expect(() => createManualClock({ now: Number.NaN })).toThrow(ValidationError);
    await expect(clock.advance(-1)).rejects.toBeInstanceOf(ValidationError);
  });

  it('refuses a timer loop that never lets time move', async () => {
    const clock = createManualClock({ now: start });
    const again = (): void => void clock.setTimeout(again, 0);
    clock.setTimeout(again, 0);
    await expect(clock.advance(1)).rejects.toThrow(/re-arms a timer at zero delay/);
  }, 60_000);
});
