/**
 * One binary script argument made of many fields, which a Lua script reads with `struct.unpack`: a text
 * or bytes field is a 4-byte big-endian length then its bytes (`">I4c0"`), a flag is one byte (`"B"`).
 * Used where a call would otherwise take several arguments per task: ioredis builds a command argument
 * by argument, and Redis hands each to the script as a string of its own.
 */
export class PackedArgument {
  private readonly fields: (string | Uint8Array | number)[] = [];
  private size = 0;

  text(value: string): this {
    this.fields.push(value);
    this.size += 4 + Buffer.byteLength(value, 'utf8');
    return this;
  }

  bytes(value: Uint8Array): this {
    this.fields.push(value);
    this.size += 4 + value.length;
    return this;
  }

  /** One byte, 0-255. */
  flag(value: number): this {
    this.fields.push(value);
    this.size += 1;
    return this;
  }

  toBuffer(): Buffer {
    const packed = Buffer.allocUnsafe(this.size);
    let at = 0;
    for (const field of this.fields) {
      if (typeof field === 'number') {
        packed[at++] = field;
      } else if (typeof field === 'string') {
        const length = packed.write(field, at + 4, 'utf8');
        packed.writeUInt32BE(length, at);
        at += 4 + length;
      } else {
        packed.writeUInt32BE(field.length, at);
        packed.set(field, at + 4);
        at += 4 + field.length;
      }
    }
    return packed;
  }
}
