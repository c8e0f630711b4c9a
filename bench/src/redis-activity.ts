/** Reads what Redis did between two points of a measurement: CPU, commands, slow log, memory. */
import type { Redis } from 'ioredis';
import type { RedisActivity } from './measurement';

/** Commands the bench itself sends; left out of the per-task figures. */
const benchCommands = new Set(['info', 'config', 'slowlog', 'memory', 'flushall', 'dbsize']);
const slowlogThresholdUsec = 1000;

/** Parses `INFO` output into field → value. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const separator = line.indexOf(':');
    if (separator > 0 && !line.startsWith('#'))
      fields.set(line.slice(0, separator), line.slice(separator + 1));
  }
  return fields;
}

function cpuSeconds(info: Map<string, string>): number {
  return Number(info.get('used_cpu_user') ?? 0) + Number(info.get('used_cpu_sys') ?? 0);
}

/** Starts recording: resets command statistics and the slow log. Call `finish(tasks)` at the end. */
export async function recordRedisActivity(
  redis: Redis,
): Promise<{ finish(tasks: number): Promise<RedisActivity> }> {
  await redis.config('SET', 'slowlog-log-slower-than', String(slowlogThresholdUsec));
  await redis.config('RESETSTAT');
  await redis.slowlog('RESET');
  const cpuBefore = cpuSeconds(parseInfo(await redis.info('cpu')));
  return {
    async finish(tasks) {
      const cpuAfter = cpuSeconds(parseInfo(await redis.info('cpu')));
      const perTask = (value: number): number => (tasks > 0 ? value / tasks : 0);
      const commands: RedisActivity['commands'] = {};
      let calls = 0;
      for (const [field, value] of parseInfo(await redis.info('commandstats'))) {
        const name = field.replace(/^cmdstat_/, '');
        if (benchCommands.has(name.split('|')[0] ?? name)) continue;
        const stats = Object.fromEntries(
          value.split(',').map((pair) => pair.split('=') as [string, string]),
        ) as Record<string, string>;
        const commandCalls = Number(stats.calls ?? 0);
        calls += commandCalls;
        commands[name] = {
          callsPerTask: round(perTask(commandCalls), 3),
          usecPerTask: round(perTask(Number(stats.usec ?? 0)), 3),
        };
      }
      const entries = (await redis.slowlog('GET', 10)) as [number, number, number, (string | Buffer)[]][];
      return {
        cpuUsecPerTask: round(perTask((cpuAfter - cpuBefore) * 1e6), 2),
        callsPerTask: round(perTask(calls), 3),
        commands,
        slowlog: entries
          .map(([, , usec, args]) => ({
            usec,
            command: args
              .slice(0, 4)
              .map((arg) => String(arg).slice(0, 60))
              .join(' '),
          }))
          .sort((a, b) => b.usec - a.usec),
      };
    },
  };
}

/** Redis `used_memory` in bytes. */
export async function usedMemory(redis: Redis): Promise<number> {
  return Number(parseInfo(await redis.info('memory')).get('used_memory') ?? Number.NaN);
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
