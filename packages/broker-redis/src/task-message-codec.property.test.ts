/**
 * The hand-written TaskMessage codec against protobuf-es (the reference, reflective over the schema
 * generated from proto/asynq.proto): same bytes out for every message, same values in for every input
 * protobuf-es reads, and a MalformedTaskError for what it cannot read.
 */
import { MalformedTaskError, type TaskMessage } from '@q/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeWithProtobufEs,
  encodeWithProtobufEs,
  int64FieldsAreSafe,
} from '../test/protobuf-es-task-message';
import { decodeTaskMessage, encodeTaskMessage } from './task-message-codec';

const runs = { numRuns: 400 };

const hex = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

/** A message with its payload as hex: vitest compares a 70,000-byte Uint8Array element by element, slowly. */
function comparable(message: TaskMessage) {
  return { ...message, payload: hex(message.payload) };
}

/** Any UTF-16 code unit, lone surrogates included (both sides write those as U+FFFD). */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));

/** Well-formed text: ASCII, BMP and astral-plane characters, short and long (past the short-string paths). */
const wellFormedText = fc.oneof(
  { weight: 3, arbitrary: fc.string() },
  { weight: 3, arbitrary: fc.string({ unit: 'binary' }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 60, maxLength: 400 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 60, maxLength: 400 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '\ufeffbom', 'é', '😀', '\u0000', 'email:send') },
);

const anyText = fc.oneof(
  { weight: 4, arbitrary: wellFormedText },
  { weight: 1, arbitrary: fc.string({ unit: codeUnit, maxLength: 80 }) },
);

const int32 = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.constantFrom(0, 1, -1, 127, 128, 2 ** 31 - 1, -(2 ** 31), 25),
);

const safeInt64 = fc.oneof(
  fc.maxSafeInteger(),
  fc.integer({ min: -1000, max: 100_000 }),
  fc.constantFrom(
    0,
    -1,
    2 ** 31,
    2 ** 32 - 1,
    2 ** 32,
    -(2 ** 32),
    2 ** 35 + 7,
    -(2 ** 35) - 7,
    Number.MAX_SAFE_INTEGER,
    -Number.MAX_SAFE_INTEGER,
    1_795_707_332,
  ),
);

const payload = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  // Large payloads (a length prefix of three bytes), filled from a seed: generating 70,000 bytes one by
  // one would make every run slow.
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 16_000, max: 70_000 }), fc.integer())
      .map(([length, seed]) =>
        Uint8Array.from({ length }, (_, i) => (Math.imul(i + 1, 0x9e3779b1) ^ seed) >>> 24),
      ),
  },
);

const headerKey = fc.oneof(
  { weight: 4, arbitrary: anyText },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', '0', '1', '10', '42', '-1', '') },
);

const headers = fc.oneof(
  { weight: 1, arbitrary: fc.constant({}) },
  { weight: 3, arbitrary: fc.dictionary(headerKey, anyText, { maxKeys: 6 }) },
);

function taskMessage(text: fc.Arbitrary<string>): fc.Arbitrary<TaskMessage> {
  return fc.record({
    type: text,
    payload,
    id: text,
    queue: text,
    maxRetry: int32,
    retried: int32,
    errorMessage: text,
    timeoutSeconds: safeInt64,
    deadlineUnixSeconds: safeInt64,
    uniqueKey: text,
    lastFailedAtUnixSeconds: safeInt64,
    retentionSeconds: safeInt64,
    completedAtUnixSeconds: safeInt64,
    groupKey: text,
    headers: text === anyText ? headers : fc.dictionary(wellFormedText, wellFormedText, { maxKeys: 6 }),
  });
}

/** Fields numbered 16 and up, which a TaskMessage does not have, with every wire type protobuf-es skips. */
const unknownField = fc.oneof(
  fc
    .record({ no: fc.integer({ min: 16, max: 2 ** 29 - 1 }), value: fc.bigInt(0n, 2n ** 64n - 1n) })
    .map(({ no, value }) => Buffer.concat([varint(BigInt(no) << 3n), varint(value)])),
  fc
    .record({ no: fc.integer({ min: 16, max: 5000 }), data: fc.uint8Array({ maxLength: 40 }) })
    .map(({ no, data }) =>
      Buffer.concat([varint((BigInt(no) << 3n) | 2n), varint(BigInt(data.length)), data]),
    ),
  fc
    .record({ no: fc.integer({ min: 16, max: 5000 }), data: fc.uint8Array({ minLength: 8, maxLength: 8 }) })
    .map(({ no, data }) => Buffer.concat([varint((BigInt(no) << 3n) | 1n), data])),
  fc
    .record({ no: fc.integer({ min: 16, max: 5000 }), data: fc.uint8Array({ minLength: 4, maxLength: 4 }) })
    .map(({ no, data }) => Buffer.concat([varint((BigInt(no) << 3n) | 5n), data])),
  // A group (wire types 3 and 4) holding a varint field: proto2's, but protobuf-es and Go skip it too.
  fc
    .record({ no: fc.integer({ min: 16, max: 5000 }), inner: fc.integer({ min: 1, max: 5000 }) })
    .map(({ no, inner }) =>
      Buffer.concat([
        varint((BigInt(no) << 3n) | 3n),
        varint(BigInt(inner) << 3n),
        varint(7n),
        varint((BigInt(no) << 3n) | 4n),
      ]),
    ),
);

function varint(value: bigint): Buffer {
  const bytes: number[] = [];
  while (value > 0x7fn) {
    bytes.push(Number(value & 0x7fn) | 0x80);
    value >>= 7n;
  }
  bytes.push(Number(value));
  return Buffer.from(bytes);
}

describe('the TaskMessage codec against protobuf-es', () => {
  it('writes the same bytes as protobuf-es for every message', () => {
    fc.assert(
      fc.property(taskMessage(anyText), (message) => {
        expect(hex(encodeTaskMessage(message))).toBe(hex(encodeWithProtobufEs(message)));
      }),
      runs,
    );
  });

  it('reads protobuf-es bytes to the values protobuf-es reads, and well-formed text back as written', () => {
    fc.assert(
      fc.property(taskMessage(anyText), (message) => {
        const bytes = encodeWithProtobufEs(message);
        expect(comparable(decodeTaskMessage(bytes))).toEqual(comparable(decodeWithProtobufEs(bytes)));
      }),
      runs,
    );
    fc.assert(
      fc.property(taskMessage(wellFormedText), (message) => {
        expect(comparable(decodeTaskMessage(encodeTaskMessage(message)))).toEqual(comparable(message));
      }),
      runs,
    );
  });

  it('skips unknown fields anywhere, and lets a repeated field win over the earlier one, as protobuf-es does', () => {
    fc.assert(
      fc.property(
        taskMessage(anyText),
        taskMessage(anyText),
        fc.array(unknownField, { maxLength: 3 }),
        fc.array(unknownField, { maxLength: 3 }),
        (first, second, before, after) => {
          // Concatenated messages merge: the later scalar wins, map entries are added (a repeated key replaced).
          const bytes = Buffer.concat([
            ...before,
            encodeWithProtobufEs(first),
            ...after,
            encodeWithProtobufEs(second),
            ...before,
          ]);
          expect(comparable(decodeTaskMessage(bytes))).toEqual(comparable(decodeWithProtobufEs(bytes)));
        },
      ),
      runs,
    );
  });

  it('agrees with protobuf-es on every cut of a message: both read it the same way or both refuse it', () => {
    fc.assert(
      fc.property(taskMessage(anyText), fc.nat(), (message, at) => {
        const bytes = encodeWithProtobufEs(message);
        const cut = bytes.subarray(0, bytes.length === 0 ? 0 : at % bytes.length);
        let expected: TaskMessage | undefined;
        try {
          expected = decodeWithProtobufEs(cut);
        } catch {
          expected = undefined;
        }
        if (expected === undefined) {
          expect(() => decodeTaskMessage(cut)).toThrow(MalformedTaskError);
        } else {
          expect(comparable(decodeTaskMessage(cut))).toEqual(comparable(expected));
        }
      }),
      runs,
    );
  });

  it('reads arbitrary bytes either as protobuf-es does or refuses them with a MalformedTaskError', () => {
    // Stricter than protobuf-es in two places, both malformed input: a known field with the wrong wire type
    // and a map entry whose fields run past its length are refused rather than read as garbage.
    const bytesLike = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.tuple(taskMessage(anyText), fc.nat(), fc.nat(255)).map(([message, at, value]) => {
        const bytes = Buffer.from(encodeWithProtobufEs(message));
        if (bytes.length > 0) bytes[at % bytes.length] = value;
        return new Uint8Array(bytes);
      }),
    );
    fc.assert(
      fc.property(bytesLike, (bytes) => {
        let ours: TaskMessage | MalformedTaskError;
        try {
          ours = decodeTaskMessage(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(MalformedTaskError);
          return;
        }
        expect(comparable(ours)).toEqual(comparable(decodeWithProtobufEs(bytes)));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses exactly the int64 values outside the safe integer range', () => {
    fc.assert(
      fc.property(fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n), (value) => {
        const bytes = Buffer.concat([Buffer.from([0x40]), varint(BigInt.asUintN(64, value))]);
        expect(int64FieldsAreSafe(bytes)).toBe(value >= -(2n ** 53n - 1n) && value <= 2n ** 53n - 1n);
        if (int64FieldsAreSafe(bytes)) {
          expect(decodeTaskMessage(bytes).timeoutSeconds).toBe(Number(value));
        } else {
          expect(() => decodeTaskMessage(bytes)).toThrow(/timeout is outside the safe integer range/);
        }
      }),
      runs,
    );
  });

  it('returns a payload that is a copy, not a view into the bytes it read', () => {
    const bytes = encodeTaskMessage({ ...decodeTaskMessage(new Uint8Array()), payload: Buffer.from('abc') });
    const { payload } = decodeTaskMessage(bytes);
    expect(payload.buffer).not.toBe(bytes.buffer);
    expect(Object.getPrototypeOf(payload)).toBe(Uint8Array.prototype);
    expect(Buffer.from(payload).toString()).toBe('abc');
  });

  it('keeps a header named __proto__ as an own header', () => {
    const headers = JSON.parse('{"__proto__":"p","a":"b"}') as Record<string, string>;
    const message = { ...decodeTaskMessage(new Uint8Array()), headers };
    const decoded = decodeTaskMessage(encodeTaskMessage(message));
    expect(Object.getPrototypeOf(decoded.headers)).toBe(Object.prototype);
    expect(Object.entries(decoded.headers)).toEqual([
      ['__proto__', 'p'],
      ['a', 'b'],
    ]);
  });
});

describe('malformed TaskMessage bytes', () => {
  const cases: [string, string, RegExp][] = [
    ['a truncated varint', '28ff', /retry runs past the end/],
    ['a length past the end', '0a05616263', /type runs past the end/],
    ['a varint longer than 10 bytes', '40ffffffffffffffffffff01', /timeout is a varint longer than 10 bytes/],
    ['an int64 of 2^53', '40' + hex(varint(2n ** 53n)), /timeout is outside the safe integer range/],
    [
      'an int64 of -2^53',
      '48' + hex(varint(2n ** 64n - 2n ** 53n)),
      /deadline is outside the safe integer range/,
    ],
    ['wire type 3 left open', '8301', /a field tag runs past the end/],
    ['a stray wire type 4', '8401', /end-group tag without a start/],
    ['wire type 6', '8601', /wire type 6/],
    ['wire type 7', '8701', /wire type 7/],
    ['field number 0', '0001', /field number 0/],
    ['a known field with the wrong wire type', '0801', /field 1 \(type\) has wire type 0, expected 2/],
    ['invalid UTF-8', '0a02c328', /type is not valid UTF-8/],
    ['a header entry longer than its length', '7a020a05616263', /runs past/],
  ];
  for (const [name, bytesHex, message] of cases) {
    it(`refuses ${name} with a MalformedTaskError that says what is wrong`, () => {
      const bytes = Buffer.from(bytesHex, 'hex');
      expect(() => decodeTaskMessage(bytes)).toThrow(MalformedTaskError);
      expect(() => decodeTaskMessage(bytes)).toThrow(message);
    });
  }

  it('reads the extreme safe integers and negative int32 values protobuf-es writes', () => {
    const message: TaskMessage = {
      ...decodeTaskMessage(new Uint8Array()),
      maxRetry: -(2 ** 31),
      retried: -1,
      timeoutSeconds: Number.MAX_SAFE_INTEGER,
      deadlineUnixSeconds: -Number.MAX_SAFE_INTEGER,
      retentionSeconds: -1,
    };
    const bytes = encodeWithProtobufEs(message);
    expect(hex(encodeTaskMessage(message))).toBe(hex(bytes));
    expect(decodeTaskMessage(bytes)).toEqual(message);
  });

  it('refuses numbers the wire cannot carry when encoding', () => {
    const base = decodeTaskMessage(new Uint8Array());
    for (const bad of [
      { maxRetry: 2 ** 31 },
      { maxRetry: -(2 ** 31) - 1 },
      { retried: 0.5 },
      { timeoutSeconds: 2 ** 53 },
      { deadlineUnixSeconds: -(2 ** 53) },
      { completedAtUnixSeconds: Number.NaN },
      { retentionSeconds: Number.POSITIVE_INFINITY },
    ]) {
      expect(() => encodeTaskMessage({ ...base, ...bad })).toThrow(MalformedTaskError);
    }
  });
});
