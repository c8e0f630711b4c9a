import { PayloadEncodingError } from './errors';

/**
 * Turns payload values into the bytes a broker stores and back. Go Asynq stores opaque bytes; the default
 * codec writes JSON as UTF-8, which Go handlers read with `json.Unmarshal`.
 */
export interface PayloadCodec {
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * JSON by default. A `Uint8Array` is stored as it is and, on the way back, bytes that are not valid
 * UTF-8 JSON are handed over as a `Uint8Array` (a Go client may have sent any bytes). An empty payload
 * decodes to `undefined`.
 */
export const jsonCodec: PayloadCodec = {
  encode(value) {
    if (value instanceof Uint8Array) return value;
    if (value === undefined) return new Uint8Array(0);
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (error) {
      throw new PayloadEncodingError(
        `The payload cannot be encoded as JSON (${(error as Error).message}); pass plain data or a Uint8Array, or supply a codec.`,
        { cause: error },
      );
    }
    if (text === undefined) {
      throw new PayloadEncodingError(
        `A payload of type ${typeof value} cannot be encoded as JSON; pass plain data or a Uint8Array, or supply a codec.`,
      );
    }
    return textEncoder.encode(text);
  },
  decode(bytes) {
    if (bytes.length === 0) return undefined;
    let text: string;
    try {
      text = textDecoder.decode(bytes);
    } catch {
      return bytes;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return bytes;
    }
  },
};
