/**
 * `TaskMessage` to and from the protobuf bytes Asynq stores in a task's `msg` field.
 *
 * Hand-written for the hot path (every enqueue, dequeue and outcome goes through it): no reflection, no
 * `BigInt`, one exactly sized allocation per encode. It writes the same bytes as protobuf-es's `toBinary`
 * for `asynq.TaskMessage` (proto/asynq.proto) and reads what protobuf-es's `fromBinary` reads, to the same
 * values; task-message-codec.property.test.ts checks both against protobuf-es for generated messages.
 * Where protobuf-es would read malformed bytes as garbage, this decoder refuses them with a
 * MalformedTaskError instead: a known field with the wrong wire type, a header entry whose fields run
 * past its length, and (a limit of @q's number type, not of the wire) an int64 outside ±(2^53 - 1).
 *
 * Wire format (proto3): each non-zero field is a tag (field number << 3 | wire type; one byte for the
 * fields 1..15) followed by a varint (wire type 0) or a varint length and that many bytes (wire type 2).
 * Fields are written in field-number order, zero values ('', 0, empty bytes, empty map) are left out,
 * negative int32 and int64 values take ten bytes (two's complement, sign-extended to 64 bits), and each
 * header is one map entry message { 1: key, 2: value } in the order `Object.keys` lists them.
 */
import { MalformedTaskError, type TaskMessage } from '@q/core';

const int32Limit = 2 ** 31;
const twoTo32 = 2 ** 32;

// Wire types.
const varintWire = 0;
const fixed64Wire = 1;
const delimitedWire = 2;
const startGroupWire = 3;
const endGroupWire = 4;
const fixed32Wire = 5;

/** Tags of the fields 1..15, all one byte. */
const tag = {
  type: (1 << 3) | delimitedWire,
  payload: (2 << 3) | delimitedWire,
  id: (3 << 3) | delimitedWire,
  queue: (4 << 3) | delimitedWire,
  retry: (5 << 3) | varintWire,
  retried: (6 << 3) | varintWire,
  errorMsg: (7 << 3) | delimitedWire,
  timeout: (8 << 3) | varintWire,
  deadline: (9 << 3) | varintWire,
  uniqueKey: (10 << 3) | delimitedWire,
  lastFailedAt: (11 << 3) | varintWire,
  retention: (12 << 3) | varintWire,
  completedAt: (13 << 3) | varintWire,
  groupKey: (14 << 3) | delimitedWire,
  headers: (15 << 3) | delimitedWire,
  mapKey: (1 << 3) | delimitedWire,
  mapValue: (2 << 3) | delimitedWire,
} as const;

// ---------------------------------------------------------------------------------------------------------
// Encoding

function checkInt32(value: number, name: string): number {
  if (!Number.isInteger(value) || value < -int32Limit || value >= int32Limit) {
    throw new MalformedTaskError(`TaskMessage.${name} must be a 32-bit whole number, got ${value}.`);
  }
  return value;
}

function checkInt64(value: number, name: string): number {
  if (!Number.isSafeInteger(value)) {
    throw new MalformedTaskError(`TaskMessage.${name} must be a whole number, got ${value}.`);
  }
  return value;
}

/** Bytes of a varint holding a non-negative number below 2^32. */
function varint32Size(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/** Bytes of the varint of a safe integer as int64: ten for every negative number. */
function int64Size(value: number): number {
  if (value < 0) return 10;
  if (value < twoTo32) return varint32Size(value);
  // 33 to 53 significant bits.
  const high = Math.floor(value / twoTo32);
  return Math.ceil((64 - Math.clz32(high)) / 7);
}

/** Bytes the UTF-8 form of a string takes, a lone surrogate counting as U+FFFD (3 bytes), as TextEncoder writes it. */
function utf8Size(text: string): number {
  const length = text.length;
  if (length > 64) return Buffer.byteLength(text, 'utf8');
  let size = length;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) {
      size += 1;
    } else if (code >= 0xd800 && code < 0xdc00 && i + 1 < length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next < 0xe000) {
        // A surrogate pair: 4 bytes for 2 code units.
        size += 2;
        i++;
      } else {
        size += 2;
      }
    } else {
      size += 2;
    }
  }
  return size;
}

/** Bytes of a length-delimited field (tag, length, content) of `size` content bytes. */
function delimitedSize(size: number): number {
  return 1 + varint32Size(size) + size;
}

/** The buffer being written and the write position in it; encoding is synchronous, so one of each is enough. */
const emptyOutput = Buffer.alloc(0);
let out: Buffer = emptyOutput;
let at = 0;

function writeVarint32(value: number): void {
  while (value > 0x7f) {
    out[at++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  out[at++] = value;
}

/** Writes a safe integer (or an int32) as a 64-bit two's complement varint. */
function writeInt64(value: number): void {
  if (value >= 0 && value < twoTo32) {
    writeVarint32(value);
    return;
  }
  let low = value >>> 0;
  // Exact: value - low is a multiple of 2^32; for negative values this is the sign-extended high word.
  let high = ((value - low) / twoTo32) >>> 0;
  while (high !== 0 || low > 0x7f) {
    out[at++] = (low & 0x7f) | 0x80;
    low = ((low >>> 7) | (high << 25)) >>> 0;
    high >>>= 7;
  }
  out[at++] = low;
}

function writeInt64Field(fieldTag: number, value: number): void {
  out[at++] = fieldTag;
  writeInt64(value);
}

/**
 * Node's native string copies that `buf.write(text, offset, length, encoding)` and `buf.toString(encoding,
 * start, end)` call after normalising their arguments; called directly, short strings cost a third less.
 */
interface NativeStringCopies {
  latin1Write(text: string, offset: number, length: number): number;
  utf8Write(text: string, offset: number, length: number): number;
  latin1Slice(start: number, end: number): string;
}

/** Writes a length-delimited string field whose UTF-8 form takes `size` bytes (from utf8Size). */
function writeStringField(fieldTag: number, text: string, size: number): void {
  out[at++] = fieldTag;
  writeVarint32(size);
  if (size !== text.length) {
    at += (out as unknown as NativeStringCopies).utf8Write(text, at, size);
  } else if (size > 16) {
    // ASCII: Latin-1 writes it byte for byte.
    at += (out as unknown as NativeStringCopies).latin1Write(text, at, size);
  } else {
    // Short ASCII: a loop beats the native call.
    for (let i = 0; i < size; i++) out[at + i] = text.charCodeAt(i);
    at += size;
  }
}

/**
 * Encodes a message as Go's Asynq does: fields in field-number order, zero values left out.
 * Throws `MalformedTaskError` for numbers the wire format cannot carry.
 */
export function encodeTaskMessage(message: TaskMessage): Uint8Array {
  const retry = checkInt32(message.maxRetry, 'maxRetry');
  const retried = checkInt32(message.retried, 'retried');
  const timeout = checkInt64(message.timeoutSeconds, 'timeoutSeconds');
  const deadline = checkInt64(message.deadlineUnixSeconds, 'deadlineUnixSeconds');
  const lastFailedAt = checkInt64(message.lastFailedAtUnixSeconds, 'lastFailedAtUnixSeconds');
  const retention = checkInt64(message.retentionSeconds, 'retentionSeconds');
  const completedAt = checkInt64(message.completedAtUnixSeconds, 'completedAtUnixSeconds');
  const { type, payload, id, queue, errorMessage, uniqueKey, groupKey, headers } = message;

  const typeSize = utf8Size(type);
  const idSize = utf8Size(id);
  const queueSize = utf8Size(queue);
  const errorSize = utf8Size(errorMessage);
  const uniqueKeySize = utf8Size(uniqueKey);
  const groupKeySize = utf8Size(groupKey);
  const payloadSize = payload.length;

  let size = 0;
  if (typeSize > 0) size += delimitedSize(typeSize);
  if (payloadSize > 0) size += delimitedSize(payloadSize);
  if (idSize > 0) size += delimitedSize(idSize);
  if (queueSize > 0) size += delimitedSize(queueSize);
  if (retry !== 0) size += 1 + int64Size(retry);
  if (retried !== 0) size += 1 + int64Size(retried);
  if (errorSize > 0) size += delimitedSize(errorSize);
  if (timeout !== 0) size += 1 + int64Size(timeout);
  if (deadline !== 0) size += 1 + int64Size(deadline);
  if (uniqueKeySize > 0) size += delimitedSize(uniqueKeySize);
  if (lastFailedAt !== 0) size += 1 + int64Size(lastFailedAt);
  if (retention !== 0) size += 1 + int64Size(retention);
  if (completedAt !== 0) size += 1 + int64Size(completedAt);
  if (groupKeySize > 0) size += delimitedSize(groupKeySize);

  // Headers: protobuf-es writes every entry, empty key and value included (as zero-length fields).
  let headerKeys: string[] | undefined;
  let headerSizes: number[] | undefined;
  for (const key in headers) {
    if (!Object.hasOwn(headers, key)) continue;
    headerKeys ??= [];
    headerSizes ??= [];
    const keySize = utf8Size(key);
    const valueSize = utf8Size(headers[key]!);
    const entrySize = delimitedSize(keySize) + delimitedSize(valueSize);
    headerKeys.push(key);
    headerSizes.push(keySize, valueSize, entrySize);
    size += delimitedSize(entrySize);
  }

  const buf = Buffer.allocUnsafe(size);
  out = buf;
  at = 0;
  if (typeSize > 0) writeStringField(tag.type, type, typeSize);
  if (payloadSize > 0) {
    buf[at++] = tag.payload;
    writeVarint32(payloadSize);
    buf.set(payload, at);
    at += payloadSize;
  }
  if (idSize > 0) writeStringField(tag.id, id, idSize);
  if (queueSize > 0) writeStringField(tag.queue, queue, queueSize);
  if (retry !== 0) writeInt64Field(tag.retry, retry);
  if (retried !== 0) writeInt64Field(tag.retried, retried);
  if (errorSize > 0) writeStringField(tag.errorMsg, errorMessage, errorSize);
  if (timeout !== 0) writeInt64Field(tag.timeout, timeout);
  if (deadline !== 0) writeInt64Field(tag.deadline, deadline);
  if (uniqueKeySize > 0) writeStringField(tag.uniqueKey, uniqueKey, uniqueKeySize);
  if (lastFailedAt !== 0) writeInt64Field(tag.lastFailedAt, lastFailedAt);
  if (retention !== 0) writeInt64Field(tag.retention, retention);
  if (completedAt !== 0) writeInt64Field(tag.completedAt, completedAt);
  if (groupKeySize > 0) writeStringField(tag.groupKey, groupKey, groupKeySize);
  if (headerKeys !== undefined && headerSizes !== undefined) {
    for (let i = 0; i < headerKeys.length; i++) {
      const key = headerKeys[i]!;
      buf[at++] = tag.headers;
      writeVarint32(headerSizes[i * 3 + 2]!);
      writeStringField(tag.mapKey, key, headerSizes[i * 3]!);
      writeStringField(tag.mapValue, headers[key]!, headerSizes[i * 3 + 1]!);
    }
  }
  const written = at;
  out = emptyOutput;
  if (written !== size) {
    // Unreachable unless the sizes above and the writes disagree; never hand out uninitialized bytes.
    throw new Error(`TaskMessage encoder wrote ${written} bytes, expected ${size}.`);
  }
  return buf;
}

// ---------------------------------------------------------------------------------------------------------
// Decoding

/** Thrown inside the decoder; decodeTaskMessage turns it into a MalformedTaskError. */
class WireError extends Error {}

/** A placeholder until the payload's copy is made. */
const noPayload = new Uint8Array(0);

// A UTF-8 decoder that rejects invalid UTF-8 and keeps a leading U+FEFF, like protobuf-es for proto3 strings.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The input being decoded, and the read position in it; decoding is synchronous, so one of each is enough. */
const emptyInput = Buffer.alloc(0);
let input: Buffer = emptyInput;
let pos = 0;

function truncated(what: string): WireError {
  return new WireError(`${what} runs past the end of the ${input.length} bytes`);
}

/** Reads a varint as an unsigned 32-bit number, ignoring bits above 32 (as protobuf-es's uint32 does). */
function readVarint32(what: string): number {
  const buf = input;
  const end = buf.length;
  let result = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= end) throw truncated(what);
    const byte = buf[pos++]!;
    result |= (byte & 0x7f) << shift;
    if (byte < 0x80) return result >>> 0;
  }
  if (pos >= end) throw truncated(what);
  let byte = buf[pos++]!;
  result |= (byte & 0x0f) << 28;
  // Up to five more bytes of a 64-bit varint, whose bits are dropped.
  for (let read = 5; byte >= 0x80 && read < 10; read++) {
    if (pos >= end) throw truncated(what);
    byte = buf[pos++]!;
  }
  if (byte >= 0x80) throw new WireError(`${what} is a varint longer than 10 bytes`);
  return result >>> 0;
}

/** Reads a varint as int64 and returns it as a number; throws when it is not a safe integer. */
function readInt64(what: string): number {
  const buf = input;
  const end = buf.length;
  let low = 0;
  let high = 0;
  let byte = 0;
  let done = false;
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= end) throw truncated(what);
    byte = buf[pos++]!;
    low |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      done = true;
      break;
    }
  }
  if (!done) {
    if (pos >= end) throw truncated(what);
    byte = buf[pos++]!;
    low |= (byte & 0x0f) << 28;
    high = (byte & 0x70) >> 4;
    if (byte >= 0x80) {
      for (let shift = 3; shift <= 31; shift += 7) {
        if (pos >= end) throw truncated(what);
        byte = buf[pos++]!;
        high |= (byte & 0x7f) << shift;
        if (byte < 0x80) break;
      }
      if (byte >= 0x80) throw new WireError(`${what} is a varint longer than 10 bytes`);
    }
  }
  // high is the signed upper word: the value is high * 2^32 + low (unsigned).
  if (high >= 0x200000 || high < -0x200000 || (high === -0x200000 && low === 0)) {
    throw new WireError(`${what} is outside the safe integer range (±2^53 - 1) that @q supports`);
  }
  return high * twoTo32 + (low >>> 0);
}

/** Reads a length prefix and returns the end of the content, checked against the input. */
function readLength(what: string): number {
  const length = readVarint32(`${what}'s length`);
  const end = pos + length;
  if (end > input.length) throw truncated(what);
  return end;
}

function readString(what: string): string {
  const end = readLength(what);
  const start = pos;
  pos = end;
  if (start === end) return '';
  const buf = input;
  for (let i = start; i < end; i++) {
    if (buf[i]! >= 0x80) {
      try {
        return strictUtf8.decode(buf.subarray(start, end));
      } catch (error) {
        throw new WireError(`${what} is not valid UTF-8`, { cause: error });
      }
    }
  }
  // ASCII: Latin-1 reads it byte for byte.
  return (buf as unknown as NativeStringCopies).latin1Slice(start, end);
}

/** Skips the value of an unknown field, as protobuf-es does (groups included). */
function skipField(fieldNumber: number, wireType: number, depthLeft: number): void {
  const what = `unknown field ${fieldNumber}`;
  switch (wireType) {
    case varintWire: {
      const end = input.length;
      for (;;) {
        if (pos >= end) throw truncated(what);
        if (input[pos++]! < 0x80) return;
      }
    }
    case fixed64Wire:
      pos += 8;
      if (pos > input.length) throw truncated(what);
      return;
    case fixed32Wire:
      pos += 4;
      if (pos > input.length) throw truncated(what);
      return;
    case delimitedWire:
      pos = readLength(what);
      return;
    case startGroupWire:
      if (depthLeft <= 0) throw new WireError(`${what} nests groups too deeply`);
      for (;;) {
        const [innerNumber, innerWire] = readTag();
        if (innerWire === endGroupWire) {
          if (innerNumber !== fieldNumber)
            throw new WireError(`${what} ends with the end tag of field ${innerNumber}`);
          return;
        }
        skipField(innerNumber, innerWire, depthLeft - 1);
      }
    default:
      throw new WireError(`field ${fieldNumber} has an end-group tag without a start`);
  }
}

let tagNumber = 0;
let tagWire = 0;

function readTag(): [number, number] {
  readTagInto();
  return [tagNumber, tagWire];
}

/** Reads a tag into tagNumber and tagWire, rejecting what protobuf-es rejects. */
function readTagInto(): void {
  const start = pos;
  const value = readVarint32('a field tag');
  const read = pos - start;
  if (read > 5 || (read === 5 && input[pos - 1]! > 0x0f)) {
    throw new WireError(`a field tag at byte ${start} does not fit in 32 bits`);
  }
  tagNumber = value >>> 3;
  tagWire = value & 7;
  if (tagNumber === 0 || tagWire > 5) {
    throw new WireError(`the tag at byte ${start} has field number ${tagNumber} and wire type ${tagWire}`);
  }
}

const fieldNames = [
  '',
  'type',
  'payload',
  'id',
  'queue',
  'retry',
  'retried',
  'error_msg',
  'timeout',
  'deadline',
  'unique_key',
  'last_failed_at',
  'retention',
  'completed_at',
  'group_key',
  'headers',
];

function expectWire(wire: number): void {
  if (tagWire !== wire) {
    throw new WireError(
      `field ${tagNumber} (${fieldNames[tagNumber]}) has wire type ${tagWire}, expected ${wire}`,
    );
  }
}

function setHeader(headers: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__') {
    Object.defineProperty(headers, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    headers[key] = value;
  }
}

function readHeader(headers: Record<string, string>): void {
  const end = readLength('a headers entry');
  let key = '';
  let value = '';
  while (pos < end) {
    readTagInto();
    if (tagNumber === 1) {
      expectWire(delimitedWire);
      key = readString('a header key');
    } else if (tagNumber === 2) {
      expectWire(delimitedWire);
      value = readString(`header ${JSON.stringify(key)}`);
    } else {
      skipField(tagNumber, tagWire, 99);
    }
  }
  if (pos !== end) throw new WireError('a headers entry runs past its length');
  setHeader(headers, key, value);
}

function decode(bytes: Uint8Array): TaskMessage {
  input = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  pos = 0;
  const message: TaskMessage = {
    id: '',
    type: '',
    payload: noPayload,
    queue: '',
    maxRetry: 0,
    retried: 0,
    errorMessage: '',
    timeoutSeconds: 0,
    deadlineUnixSeconds: 0,
    uniqueKey: '',
    lastFailedAtUnixSeconds: 0,
    retentionSeconds: 0,
    completedAtUnixSeconds: 0,
    groupKey: '',
    headers: {},
  };
  let payloadStart = 0;
  let payloadEnd = 0;
  const end = input.length;
  while (pos < end) {
    readTagInto();
    switch (tagNumber) {
      case 1:
        expectWire(delimitedWire);
        message.type = readString('type');
        break;
      case 2:
        expectWire(delimitedWire);
        payloadEnd = readLength('payload');
        payloadStart = pos;
        pos = payloadEnd;
        break;
      case 3:
        expectWire(delimitedWire);
        message.id = readString('id');
        break;
      case 4:
        expectWire(delimitedWire);
        message.queue = readString('queue');
        break;
      case 5:
        expectWire(varintWire);
        message.maxRetry = readVarint32('retry') | 0;
        break;
      case 6:
        expectWire(varintWire);
        message.retried = readVarint32('retried') | 0;
        break;
      case 7:
        expectWire(delimitedWire);
        message.errorMessage = readString('error_msg');
        break;
      case 8:
        expectWire(varintWire);
        message.timeoutSeconds = readInt64('timeout');
        break;
      case 9:
        expectWire(varintWire);
        message.deadlineUnixSeconds = readInt64('deadline');
        break;
      case 10:
        expectWire(delimitedWire);
        message.uniqueKey = readString('unique_key');
        break;
      case 11:
        expectWire(varintWire);
        message.lastFailedAtUnixSeconds = readInt64('last_failed_at');
        break;
      case 12:
        expectWire(varintWire);
        message.retentionSeconds = readInt64('retention');
        break;
      case 13:
        expectWire(varintWire);
        message.completedAtUnixSeconds = readInt64('completed_at');
        break;
      case 14:
        expectWire(delimitedWire);
        message.groupKey = readString('group_key');
        break;
      case 15:
        expectWire(delimitedWire);
        readHeader(message.headers);
        break;
      default:
        skipField(tagNumber, tagWire, 99);
    }
  }
  // A copy: the input is usually a view into the whole Redis reply.
  const payloadSize = payloadEnd - payloadStart;
  const payload = new Uint8Array(payloadSize);
  if (payloadSize > 0) payload.set(input.subarray(payloadStart, payloadEnd));
  message.payload = payload;
  return message;
}

/** Decodes a `msg` field. Throws `MalformedTaskError` when the bytes are not a TaskMessage. */
export function decodeTaskMessage(bytes: Uint8Array): TaskMessage {
  try {
    return decode(bytes);
  } catch (error) {
    if (!(error instanceof WireError)) throw error;
    throw new MalformedTaskError(`The task record's msg is not a protobuf TaskMessage (${error.message}).`, {
      cause: error,
    });
  } finally {
    input = emptyInput;
  }
}
