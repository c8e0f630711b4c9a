import { describe, expect, it } from 'vitest';
import { goQuote, toAsynqOptionStrings } from './asynq-option-strings';

describe('toAsynqOptionStrings', () => {
  it("writes Asynq's Option.String() forms", () => {
    expect(
      toAsynqOptionStrings({
        queue: 'low',
        maxRetry: 3,
        timeout: 60_000,
        processIn: 600_000,
        unique: 3_600_000,
        retention: 86_400_000,
        group: 'digest',
        headers: { tenant: 'acme' },
      }),
    ).toEqual([
      'Queue("low")',
      'MaxRetry(3)',
      'Timeout(1m0s)',
      'ProcessIn(10m0s)',
      'Unique(1h0m0s)',
      'Retention(24h0m0s)',
      'Group("digest")',
    ]);
  });

  it('lists only the options given', () => {
    expect(toAsynqOptionStrings({})).toEqual([]);
    expect(toAsynqOptionStrings({ maxRetry: 0 })).toEqual(['MaxRetry(0)']);
  });
});

describe('goQuote', () => {
  it.each([
    ['low', '"low"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['a\\b', '"a\\\\b"'],
    ['tab\there\n', '"tab\\there\\n"'],
    ['\u0001', '"\\x01"'],
    ['\u007f', '"\\x7f"'],
    ['café 日本', '"café 日本"'],
    ['\u00a0', '"\\u00a0"'],
  ])('quotes %j as Go %%q does', (text, quoted) => {
    expect(goQuote(text)).toBe(quoted);
  });
});
