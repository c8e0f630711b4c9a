/**
 * Moves one hash slot from its master to another while clients work on it, as `redis-cli --cluster
 * reshard` does (SETSLOT IMPORTING / MIGRATING, MIGRATE key batches, SETSLOT NODE): clients meet ASK
 * and TRYAGAIN during the move and MOVED after it.
 */
import { redisCli } from './redis-tools';

export async function migrateSlot(
  ports: readonly number[],
  key: string,
): Promise<{ slot: number; from: number; to: number; keysMoved: number }> {
  const slot = Number(await redisCli({ port: ports[0]! }, ['CLUSTER', 'KEYSLOT', key]));
  const ids = await Promise.all(ports.map((port) => redisCli({ port }, ['CLUSTER', 'MYID'])));
  // The owner is the node that answers a key of the slot without MOVED.
  let from = -1;
  for (let index = 0; index < ports.length; index += 1) {
    const reply = await redisCli({ port: ports[index]! }, ['TYPE', key]);
    if (!reply.includes('MOVED')) from = index;
  }
  if (from < 0) throw new Error(`no node owns slot ${slot}`);
  const to = (from + 1) % ports.length;
  const source = { port: ports[from]! };
  const target = { port: ports[to]! };
  await redisCli(target, ['CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', ids[from]!]);
  await redisCli(source, ['CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', ids[to]!]);
  let keysMoved = 0;
  for (;;) {
    const keys = (await redisCli(source, ['CLUSTER', 'GETKEYSINSLOT', String(slot), '50']))
      .split('\n')
      .filter((line) => line !== '');
    if (keys.length === 0) break;
    const reply = await redisCli(source, [
      'MIGRATE',
      '127.0.0.1',
      String(target.port),
      '',
      '0',
      '5000',
      'REPLACE',
      'KEYS',
      ...keys,
    ]);
    if (!reply.startsWith('OK') && !reply.startsWith('NOKEY')) throw new Error(`MIGRATE failed: ${reply}`);
    keysMoved += keys.length;
    // Let clients run into ASK and TRYAGAIN between batches.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const port of ports) await redisCli({ port }, ['CLUSTER', 'SETSLOT', String(slot), 'NODE', ids[to]!]);
  return { slot, from: ports[from]!, to: ports[to]!, keysMoved };
}
