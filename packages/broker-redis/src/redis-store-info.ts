/**
 * Facts about the Redis behind the broker, for the inspector (`QueueAdmin.storeInfo` and
 * `queueLocation`): its clock, version, mode and eviction policy, and where a queue lives in a cluster.
 * Read with INFO, TIME and CLUSTER SLOTS only, which a least-privilege ACL user may run; CONFIG is not
 * needed.
 */
import type { QueueLocation, StoreInfo } from '@q/core';
import { Cluster } from 'ioredis';
import type { RedisConnection } from './redis-scripts';

/** Parses INFO or CLUSTER INFO: `field:value` lines, `#` section headings skipped. */
export function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const separator = line.indexOf(':');
    if (separator > 0) fields[line.slice(0, separator)] = line.slice(separator + 1);
  }
  return fields;
}

function numberField(fields: Record<string, string>, name: string): number | undefined {
  const value = fields[name];
  if (value === undefined || value === '') return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

export async function readStoreInfo(connection: RedisConnection): Promise<StoreInfo> {
  // In a cluster, every master holds queues: report the first one's settings, and the cluster's state.
  // A cluster connection that has not sent a command yet knows no node: one command makes it connect.
  if (connection instanceof Cluster && connection.nodes('master').length === 0) await connection.ping();
  const node = connection instanceof Cluster ? connection.nodes('master')[0] : connection;
  if (!node) throw new Error('The Redis Cluster has no reachable master.');
  const [time, infoText, clusterText] = await Promise.all([
    node.time(),
    node.info(),
    connection instanceof Cluster ? node.cluster('INFO') : Promise.resolve(''),
  ]);
  const fields = { ...parseInfo(infoText), ...parseInfo(String(clusterText)) };
  const [seconds, microseconds] = time.map(Number) as [number, number];
  const info: StoreInfo = {
    time: seconds * 1000 + Math.floor(microseconds / 1000),
    version: `${fields.server_name ?? 'redis'} ${fields.valkey_version ?? fields.redis_version ?? '?'}`,
    mode: storeMode(connection),
    details: fields,
  };
  if (fields.maxmemory_policy) info.evictionPolicy = fields.maxmemory_policy;
  const maxMemory = numberField(fields, 'maxmemory');
  if (maxMemory !== undefined) info.maxMemory = maxMemory;
  const usedMemory = numberField(fields, 'used_memory');
  if (usedMemory !== undefined) info.usedMemory = usedMemory;
  return info;
}

/** Redis Cluster is `partitioned`; a primary found through Sentinel is `replicated`. */
export function storeMode(connection: RedisConnection): StoreInfo['mode'] {
  if (connection instanceof Cluster) return 'partitioned';
  const { sentinels } = connection.options as { sentinels?: unknown[] | null };
  return sentinels && sentinels.length > 0 ? 'replicated' : 'standalone';
}

/** The hash slot of `key` (CRC16-XMODEM of its hash tag, modulo 16384), as Redis Cluster computes it. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  let hashed = key;
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) hashed = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(hashed)) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

type SlotRange = [number, number, ...[string, number, string?, ...unknown[]][]];

/** The slot of the queue's keys (Asynq asks for the slot of its pending list) and the nodes serving it. */
export async function readQueueLocation(
  connection: RedisConnection,
  pendingKey: string,
): Promise<QueueLocation> {
  const slot = keySlot(pendingKey);
  if (!(connection instanceof Cluster)) return { partition: slot, nodes: [] };
  const ranges = (await connection.cluster('SLOTS')) as SlotRange[];
  const range = ranges.find(([start, end]) => slot >= start && slot <= end);
  const nodes = (range?.slice(2) ?? []) as [string, number, string?][];
  return {
    partition: slot,
    nodes: nodes.map(([host, port, id]) => ({ id: id ?? '', address: `${host}:${port}` })),
  };
}
