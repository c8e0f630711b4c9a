import { describe, expect, it } from 'vitest';
import { PackedArgument } from './packed-argument';

describe('PackedArgument', () => {
  it('writes texts and bytes behind 4-byte big-endian lengths, and flags as one byte', () => {
    const packed = new PackedArgument()
      .text('id-é')
      .bytes(new Uint8Array([0, 255]))
      .flag(1)
      .text('')
      .toBuffer();
    expect([...packed]).toEqual([
      0, 0, 0, 5, 0x69, 0x64, 0x2d, 0xc3, 0xa9, 0, 0, 0, 2, 0, 255, 1, 0, 0, 0, 0,
    ]);
  });
});
