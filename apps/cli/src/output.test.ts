import { describe, expect, it } from 'vitest';
import { formatTable, printableBytes, toJsonValue } from './output';

describe('output', () => {
  it("prints tables in Asynq's style", () => {
    expect(
      formatTable(
        ['ID', 'Type'],
        [
          ['t-1', 'email:send'],
          ['t-22', 'x'],
        ],
      ),
    ).toBe('ID    Type\n--    ----\nt-1   email:send\nt-22  x\n');
  });

  it('turns bytes into text plus exact base64, and dates into ISO strings', () => {
    const value = toJsonValue({
      payload: new TextEncoder().encode('{"a":1}'),
      at: new Date(0),
      skip: undefined,
      raw: new Uint8Array([0xff]),
    });
    expect(value).toEqual({
      payload: '{"a":1}',
      payloadBase64: 'eyJhIjoxfQ==',
      at: '1970-01-01T00:00:00.000Z',
      raw: null,
      rawBase64: '/w==',
    });
  });

  it('shows printable payloads and hides binary ones', () => {
    expect(printableBytes(new TextEncoder().encode('hello\nworld'))).toBe('hello world');
    expect(printableBytes(new Uint8Array([0, 1, 2]))).toBe('non-printable bytes');
    expect(printableBytes(new Uint8Array(0))).toBe('');
  });
});
