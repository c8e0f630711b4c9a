import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors';
import { assertFlowKey, assertFlowLimitsUpdate, hasFlowControl } from './flow-control';

describe('flow control contract', () => {
  it('recognises a broker with every flow-control method, and not one missing any', () => {
    const resolved = (): Promise<void> => Promise.resolve();
    const complete = {
      setFlowLimits: resolved,
      clearFlowLimits: resolved,
      flowState: resolved,
      pauseFlow: resolved,
      announceFlowSlot: resolved,
    };
    expect(hasFlowControl(complete)).toBe(true);
    const { pauseFlow: _missing, ...partial } = complete;
    expect(hasFlowControl(partial)).toBe(false);
    expect(hasFlowControl({})).toBe(false);
  });

  it('accepts whole positive limits, null to remove, and refuses the rest saying what to change', () => {
    expect(() => assertFlowLimitsUpdate({ concurrency: 5, rate: { limit: 50, period: 1000 } })).not.toThrow();
    expect(() => assertFlowLimitsUpdate({ concurrency: null, rate: null })).not.toThrow();
    expect(() => assertFlowLimitsUpdate({})).not.toThrow();
    expect(() => assertFlowLimitsUpdate({ concurrency: 0 })).toThrow(
      /limits.concurrency must be a whole number/,
    );
    expect(() => assertFlowLimitsUpdate({ concurrency: 2.5 })).toThrow(ValidationError);
    expect(() => assertFlowLimitsUpdate({ rate: { limit: 10, period: 0 } })).toThrow(/rate.period/);
    expect(() => assertFlowLimitsUpdate({ rate: { limit: 10 } as never })).toThrow(/rate.period/);
    expect(() => assertFlowLimitsUpdate({ burst: 3 } as never)).toThrow(/Unknown limits "burst"/);
    expect(() => assertFlowLimitsUpdate(null as never)).toThrow(/must be an object/);
  });

  it('checks per-key limits with the same rules, at their own path', () => {
    expect(() =>
      assertFlowLimitsUpdate({ perKey: { concurrency: 2, rate: { limit: 5, period: 1000 } } }),
    ).not.toThrow();
    expect(() => assertFlowLimitsUpdate({ perKey: null })).not.toThrow();
    expect(() => assertFlowLimitsUpdate({ perKey: { concurrency: 0 } })).toThrow(
      /limits\.perKey\.concurrency must be a whole number/,
    );
    expect(() => assertFlowLimitsUpdate({ perKey: { perKey: {} } as never })).toThrow(ValidationError);
    expect(() => assertFlowLimitsUpdate({ perKey: 3 as never })).toThrow(/limits\.perKey must be an object/);
  });

  it('accepts a flow key under the queue-name rule and says what is wrong with any other', () => {
    expect(assertFlowKey('tenant-42')).toBe('tenant-42');
    expect(assertFlowKey('acme corp')).toBe('acme corp');
    expect(() => assertFlowKey('')).toThrow(/^flowKey "" is blank: a flow key is 1 to 256 characters/);
    expect(() => assertFlowKey('a}b')).toThrow(/contains '}'/);
    expect(() => assertFlowKey('x'.repeat(257))).toThrow(/is 257 characters long/);
    expect(() => assertFlowKey(42)).toThrow(ValidationError);
  });
});
