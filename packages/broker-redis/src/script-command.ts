/**
 * A script call written straight to RESP: `EVALSHA sha numkeys key… arg…` as one string (or one Buffer
 * when an argument is binary), sent through ioredis' `sendCommand` so that ioredis still pairs the reply,
 * queues the call while offline and resends it after a reconnect.
 *
 * Why not ioredis' own `defineCommand` function: for every call it spreads the arguments three times
 * (`unshift`, `[sha, ...args]`, `args.flat()`), converts each number, makes a closure in `toWritable`, and
 * then writes the command argument by argument. On the worker's path (a dequeue and an acknowledgement
 * batch per lane cycle) that was 16 % of the drain profile at concurrency 10. Here a call is one loop over
 * its keys and arguments.
 *
 * As ioredis does, the first call of a script on a socket sends its text (`EVAL`, which Redis keeps in its
 * script cache) and later ones its SHA-1; when Redis answers NOSCRIPT all the same (after `SCRIPT FLUSH`)
 * the caller sends the text again.
 */
import { createHash } from 'node:crypto';
import { Command, type Redis } from 'ioredis';
import { luaScripts, type LuaScriptName } from './lua-scripts.generated';

export type ScriptArgument = string | number | Uint8Array;

/** The SHA-1 of each script's text, as Redis names it in its script cache. */
const scriptShas = new Map<LuaScriptName, string>();

export function scriptSha(script: LuaScriptName): string {
  let sha = scriptShas.get(script);
  if (sha === undefined) {
    sha = createHash('sha1').update(luaScripts[script]).digest('hex');
    scriptShas.set(script, sha);
  }
  return sha;
}

function bulkString(text: string): string {
  return `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
}

/**
 * The RESP bytes of `EVALSHA sha numkeys key… arg…` (or `EVAL script …`): a string when every argument
 * is text or a number (the socket encodes it as UTF-8), otherwise one Buffer.
 */
export function encodeScriptCall(
  command: 'EVALSHA' | 'EVAL',
  shaOrScript: string,
  keys: readonly string[],
  args: readonly ScriptArgument[],
): string | Buffer {
  let text = `*${3 + keys.length + args.length}\r\n${bulkString(command)}${bulkString(shaOrScript)}${bulkString(String(keys.length))}`;
  for (const key of keys) text += bulkString(key);
  let parts: (string | Uint8Array)[] | undefined;
  for (const arg of args) {
    if (typeof arg === 'string') text += bulkString(arg);
    else if (typeof arg === 'number') text += bulkString(String(arg));
    else {
      parts ??= [];
      parts.push(`${text}$${arg.byteLength}\r\n`, arg);
      text = '\r\n';
    }
  }
  if (parts === undefined) return text;
  parts.push(text);
  let length = 0;
  for (const part of parts) length += typeof part === 'string' ? Buffer.byteLength(part) : part.byteLength;
  const bytes = Buffer.allocUnsafe(length);
  let offset = 0;
  for (const part of parts) {
    if (typeof part === 'string') offset += bytes.write(part, offset);
    else {
      bytes.set(part, offset);
      offset += part.byteLength;
    }
  }
  return bytes;
}

/** One script invocation: every key it touches that can be known in advance, then its arguments. */
export interface ScriptCall {
  script: LuaScriptName;
  keys: readonly string[];
  args: readonly ScriptArgument[];
}

/** The scripts each socket has sent the text of (Redis keeps a script it ran by `EVAL`). */
const sentScripts = new WeakMap<object, Set<LuaScriptName>>();

/**
 * A script call that ioredis writes as the bytes `toWritable` makes: `EVAL` with the text when this
 * socket has not sent the script yet, `EVALSHA` after. Chosen when written, as ioredis' own script
 * commands do: a call made before the connection is up is written (from the offline queue) to the socket
 * that then exists, and a call resent after a reconnect to the new one.
 */
class PreparedScriptCommand extends Command {
  private readonly call: ScriptCall;
  /** The socket this call was last written to as `EVALSHA` (undefined when it went as `EVAL`). */
  shaSentTo: object | undefined;

  /**
   * `replyEncoding` null keeps bulk replies as Buffers; 'utf8' makes them strings. `errorStack` is the
   * caller's stack, for ioredis' `showFriendlyErrorStack`.
   */
  constructor(call: ScriptCall, replyEncoding: 'utf8' | null, errorStack: Error | undefined) {
    super('evalsha', [], { replyEncoding, errorStack });
    this.call = call;
  }

  override toWritable(socket: object): string | Buffer {
    const { script, keys, args } = this.call;
    let sent = sentScripts.get(socket);
    if (sent === undefined) {
      sent = new Set();
      sentScripts.set(socket, sent);
    }
    if (sent.has(script)) {
      this.shaSentTo = socket;
      return encodeScriptCall('EVALSHA', scriptSha(script), keys, args);
    }
    this.shaSentTo = undefined;
    sent.add(script);
    return encodeScriptCall('EVAL', luaScripts[script], keys, args);
  }
}

/** Whether Redis refused the call because it does not hold the script. */
function isNoScriptError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/**
 * Sends a script call on a single connection (not a cluster: ioredis routes a cluster's commands by
 * their keys). When Redis answers NOSCRIPT to an `EVALSHA` (it forgot the script: `SCRIPT FLUSH`), the
 * call is sent again with the script's text.
 */
export function sendScript(
  connection: Redis,
  call: ScriptCall,
  replyEncoding: 'utf8' | null,
): Promise<unknown> {
  const errorStack = connection.options.showFriendlyErrorStack ? new Error() : undefined;
  const command = new PreparedScriptCommand(call, replyEncoding, errorStack);
  return (connection.sendCommand(command) as Promise<unknown>).catch((error: unknown) => {
    const socket = command.shaSentTo;
    if (socket === undefined || !isNoScriptError(error)) throw error;
    sentScripts.get(socket)?.delete(call.script);
    return sendScript(connection, call, replyEncoding);
  });
}
