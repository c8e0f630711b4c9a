import { describe, expect, it } from 'vitest';
import { jsonCodec } from './codec';
import { PayloadEncodingError } from './errors';

describe('jsonCodec', () => {
  it('encodes JSON as UTF-8 bytes, as Go json.Unmarshal reads it', () => {
    expect(new TextDecoder().decode(jsonCodec.encode({ to: 'a@example.com' }))).toBe(
      '{"to":"a@example.com"}',
    );
    expect(jsonCodec.decode(jsonCodec.encode({ n: 1, s: 'é' }))).toEqual({ n: 1, s: 'é' });
  });

  it('passes bytes through both ways', () => {
    const bytes = new Uint8Array([0xff, 0x00, 0x01]);
    expect(jsonCodec.encode(bytes)).toBe(bytes);
    expect(jsonCodec.decode(bytes)).toEqual(bytes);
  });

  it('treats an empty payload as undefined', () => {
    expect(jsonCodec.encode(undefined)).toHaveLength(0);
    expect(jsonCodec.decode(new Uint8Array())).toBeUndefined();
  });

  it('rejects values JSON cannot carry with a typed error', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => jsonCodec.encode(circular)).toThrow(PayloadEncodingError);
    expect(() => jsonCodec.encode(10n)).toThrow(PayloadEncodingError);
    expect(() => jsonCodec.encode(() => 1)).toThrow(/cannot be encoded/);
  });
});
