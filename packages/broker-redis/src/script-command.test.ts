import fc from 'fast-check';
import { Command, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { redisUrl, uniquePrefix } from '../test/redis-test-context';
import { luaScripts } from './lua-scripts.generated';
import { defineScripts, runScript, runScriptBuffer } from './redis-scripts';
import { encodeScriptCall, scriptSha, type ScriptArgument } from './script-command';

/** What ioredis itself writes for the same call (its `Command` in buffer mode when an argument is binary). */
function ioredisBytes(
  name: 'EVALSHA' | 'EVAL',
  shaOrScript: string,
  keys: readonly string[],
  args: readonly ScriptArgument[],
): Buffer {
  const command = new Command(name, [
    shaOrScript,
    keys.length,
    ...keys,
    ...args.map((arg) => (arg instanceof Uint8Array ? Buffer.from(arg) : arg)),
  ]);
  const written = command.toWritable({});
  return typeof written === 'string' ? Buffer.from(written) : written;
}

function asBytes(written: string | Buffer): Buffer {
  return typeof written === 'string' ? Buffer.from(written) : written;
}

const argument: fc.Arbitrary<ScriptArgument> = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.uint8Array({ maxLength: 64 }),
);

describe('encodeScriptCall', () => {
  it('writes the bytes ioredis writes for the same EVALSHA or EVAL, text and binary arguments alike', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(['EVALSHA', scriptSha('done-batch')] as const, ['EVAL', luaScripts.pause] as const),
        fc.array(fc.string({ unit: 'grapheme', minLength: 1 }), { maxLength: 6 }),
        fc.array(argument, { maxLength: 8 }),
        ([name, head], keys, args) => {
          const ours = asBytes(encodeScriptCall(name, head, keys, args));
          expect(ours.equals(ioredisBytes(name, head, keys, args))).toBe(true);
        },
      ),
    );
  });

  it('returns one string when no argument is binary, one Buffer when one is', () => {
    expect(typeof encodeScriptCall('EVALSHA', scriptSha('done'), ['a'], ['x', 1])).toBe('string');
    const binary = encodeScriptCall('EVALSHA', scriptSha('done'), ['a'], ['x', new Uint8Array([0, 255])]);
    expect(Buffer.isBuffer(binary)).toBe(true);
  });

  it('names each script by the SHA-1 Redis gives its text', () => {
    expect(scriptSha('done')).toMatch(/^[0-9a-f]{40}$/);
    expect(scriptSha('done')).not.toBe(scriptSha('done-batch'));
  });
});

describe('script calls written straight to RESP', () => {
  let redis: Redis;
  /** SCRIPT FLUSH and SCRIPT EXISTS need more than the least-privilege user of `Q_TEST_ACL=1`. */
  let admin: Redis;
  beforeAll(async () => {
    redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
    admin = new Redis(inject('redisAdminUrl'));
    defineScripts(redis);
    await redis.ping();
  });
  afterAll(() => {
    redis.disconnect();
    admin.disconnect();
  });

  it("send the text on a socket's first call, then the SHA-1, and the text again after SCRIPT FLUSH", async () => {
    const key = `${uniquePrefix()}:paused`;
    const write = vi.spyOn(redis.stream, 'write');
    const written = (): string[] => write.mock.calls.map(([bytes]) => String(bytes).split('\r\n')[2]!);
    expect(await runScript(redis, { script: 'pause', keys: [key], args: [1700000000] })).toBe(1);
    expect(await redis.get(key)).toBe('1700000000');
    expect(await admin.script('EXISTS', scriptSha('pause'))).toEqual([1]);
    expect(await runScript(redis, { script: 'pause', keys: [key], args: [1700000001] })).toBe(0);
    await admin.script('FLUSH');
    expect(await runScript(redis, { script: 'pause', keys: [`${key}:2`], args: [1700000002] })).toBe(1);
    expect(await redis.get(`${key}:2`)).toBe('1700000002');
    // The script calls among the GETs: EVAL, EVALSHA, then EVALSHA refused with NOSCRIPT and EVAL.
    expect(written().filter((name) => name.startsWith('EVAL'))).toEqual([
      'EVAL',
      'EVALSHA',
      'EVALSHA',
      'EVAL',
    ]);
    write.mockRestore();
  });

  it('give bulk replies as Buffers from runScriptBuffer (bytes kept) and as strings from runScript', async () => {
    const prefix = uniquePrefix();
    const message = Buffer.from([0x0a, 0x03, 0xff, 0x00, 0x80]);
    await redis.lpush(`${prefix}:pending`, 'task-1');
    await redis.hset(`${prefix}:t:task-1`, 'msg', message);
    const call = {
      script: 'list-messages' as const,
      keys: [`${prefix}:pending`, `${prefix}:lease`],
      args: [-1, -1, `${prefix}:t:`, ''],
    };
    const bytes = (await runScriptBuffer(redis, call)) as unknown[];
    expect(bytes[0]).toEqual(Buffer.from('task-1'));
    expect(Buffer.compare(bytes[1] as Buffer, message)).toBe(0);
    const text = (await runScript(redis, call)) as unknown[];
    expect(text[0]).toBe('task-1');
  });

  it('pass binary arguments through unchanged and errors other than NOSCRIPT to the caller', async () => {
    const prefix = uniquePrefix();
    const binary = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x0d, 0x0a]);
    expect(await runScript(redis, { script: 'pause', keys: [`${prefix}:paused`], args: [binary] })).toBe(1);
    expect(Buffer.compare((await redis.getBuffer(`${prefix}:paused`))!, binary)).toBe(0);
    await redis.hset(`${prefix}:pending`, 'not', 'a list');
    await expect(
      runScript(redis, {
        script: 'list-messages',
        keys: [`${prefix}:pending`, `${prefix}:lease`],
        args: [-1, -1, `${prefix}:t:`, ''],
      }),
    ).rejects.toThrow(/WRONGTYPE/);
  });

  it("keep the caller's stack in script errors when showFriendlyErrorStack is on", async () => {
    const friendly = new Redis(redisUrl(), { maxRetriesPerRequest: 1, showFriendlyErrorStack: true });
    defineScripts(friendly);
    try {
      const prefix = uniquePrefix();
      await friendly.hset(`${prefix}:pending`, 'not', 'a list');
      const failure = await runScript(friendly, {
        script: 'list-messages',
        keys: [`${prefix}:pending`, `${prefix}:lease`],
        args: [-1, -1, `${prefix}:t:`, ''],
      }).catch((error: unknown) => error as Error);
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toMatch(/WRONGTYPE/);
      expect((failure as Error).stack).toContain('script-command.test.ts');
    } finally {
      friendly.disconnect();
    }
  });
});
