/**
 * Runs the Lua scripts of `lua/`: on a single connection written straight to RESP by `script-command.ts`
 * (`EVAL` with the text on a socket's first call of a script, `EVALSHA` after, the text again when Redis
 * answers NOSCRIPT); on clusters and auto-pipelined connections through ioredis
 * `defineCommand`, which routes, batches and loads the scripts there.
 */
import type { Cluster, Redis } from 'ioredis';
import { luaScripts, type LuaScriptName } from './lua-scripts.generated';
import { sendScript, type ScriptArgument, type ScriptCall } from './script-command';

export type RedisConnection = Redis | Cluster;

export type { ScriptArgument, ScriptCall };

type ScriptCommand = (...argumentsWithKeyCount: (string | number | Buffer)[]) => Promise<unknown>;

const commandNames = new Map<LuaScriptName, string>();

/**
 * `enqueue-unique` -> `qEnqueueUnique`, prefixed so as not to clash with commands on a shared connection.
 * Memoised: it is on the path of every task (the regular expression showed in worker profiles).
 */
function commandName(script: LuaScriptName): string {
  let name = commandNames.get(script);
  if (name === undefined) {
    name = `q${script.replace(/(^|-)([a-z])/g, (_match, _dash, letter: string) => letter.toUpperCase())}`;
    commandNames.set(script, name);
  }
  return name;
}

/**
 * Makes every script callable on `connection` (idempotent). On a cluster, the scripts are kept out of
 * ioredis auto-pipelining: it routes a command by its first argument, which for a script with a variable
 * number of keys is the key count, not a key, and would batch it with commands of another slot.
 */
export function defineScripts(connection: RedisConnection): void {
  const names = (Object.keys(luaScripts) as LuaScriptName[]).map((script) => {
    connection.defineCommand(commandName(script), { lua: luaScripts[script] });
    return commandName(script);
  });
  if (connection.isCluster) {
    const options = connection.options as { autoPipeliningIgnoredCommands?: string[] };
    const ignored = options.autoPipeliningIgnoredCommands ?? [];
    options.autoPipeliningIgnoredCommands = [...new Set([...ignored, ...names])];
  }
}

function toRedisArgument(value: ScriptArgument): string | number | Buffer {
  if (typeof value === 'string' || typeof value === 'number' || Buffer.isBuffer(value)) return value;
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function commandArguments(call: ScriptCall): (string | number | Buffer)[] {
  return [call.keys.length, ...call.keys, ...call.args.map(toRedisArgument)];
}

function scriptCommand(target: RedisConnection, name: string): ScriptCommand {
  const command = (target as unknown as Record<string, ScriptCommand | undefined>)[name];
  if (typeof command !== 'function') {
    throw new Error(
      `The Lua script command ${name} is not defined on this connection; call defineScripts first.`,
    );
  }
  return command.bind(target);
}

/** Sockets corked until the current turn of the event loop ends (see `holdWrites`). */
const held = new WeakSet<object>();

/**
 * Lets the commands a producer starts in this tick leave in one socket write: the enqueue script calls of
 * one flush (one per queue and chunk) and their queue registration. Each write is a system call, and on
 * loopback the kernel also runs the receiving side's work in it. The socket is corked at the first call
 * and uncorked by the next `process.nextTick` job, once the calls queued before it were written, so a
 * lone call waits for no I/O. Measured with `pnpm bench --scenario enqueue`: Node CPU per task 24 -> 17 µs.
 * Not used on the worker's path: there, one write per call keeps the fetch lanes apart (their writes
 * merged, Redis answered them together and the lanes ran in step, leaving Node idle half the time).
 * Single connections only: a cluster routes each command to its own node connection.
 */
export function holdWrites(connection: RedisConnection): void {
  if (connection.isCluster) return;
  const stream = (connection as Redis).stream as { cork?: () => void; uncork?: () => void } | undefined;
  if (!stream?.cork || held.has(stream)) return;
  held.add(stream);
  stream.cork();
  process.nextTick(() => {
    held.delete(stream);
    stream.uncork?.();
  });
}

/**
 * A single connection without auto-pipelining: its script calls are written straight to RESP. A cluster
 * routes each command by its keys, and auto-pipelining batches them: both need ioredis' own commands.
 */
function writesDirectly(connection: RedisConnection): connection is Redis {
  return !connection.isCluster && !(connection as Redis).options.enableAutoPipelining;
}

/** Runs a script; bulk replies come back as strings. */
export function runScript(connection: RedisConnection, call: ScriptCall): Promise<unknown> {
  if (writesDirectly(connection)) return sendScript(connection, call, 'utf8');
  return scriptCommand(connection, commandName(call.script))(...commandArguments(call));
}

/** Runs a script; bulk replies come back as Buffers (for protobuf bytes). */
export function runScriptBuffer(connection: RedisConnection, call: ScriptCall): Promise<unknown> {
  if (writesDirectly(connection)) return sendScript(connection, call, null);
  return scriptCommand(connection, `${commandName(call.script)}Buffer`)(...commandArguments(call));
}
