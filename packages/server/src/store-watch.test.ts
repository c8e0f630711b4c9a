import type { StoreInfo } from '@q/core';
import { describe, expect, it } from 'vitest';
import { createMemoryBroker } from '@q/broker-memory';
import { memoryLogger } from '../test/memory-logger';
import { resolveServerOptions } from './server-options';
import { createStoreWatch, evictionRisk } from './store-watch';

function watch(infos: StoreInfo['details'][], policy = 'noeviction') {
  const logger = memoryLogger();
  const broker = Object.assign(createMemoryBroker(), {
    storeInfo: () => {
      const details = infos.shift() ?? {};
      return Promise.resolve({
        time: 0,
        version: 'redis 7',
        mode: 'standalone',
        evictionPolicy: policy,
        details,
      });
    },
  });
  const check = createStoreWatch(resolveServerOptions({ broker, logger }), 1000);
  return { check, logger };
}

describe('store watch', () => {
  it('names the evicting policies', () => {
    expect(evictionRisk('noeviction')).toBeUndefined();
    expect(evictionRisk(undefined)).toBeUndefined();
    expect(evictionRisk('allkeys-lru')).toMatch(/tasks can vanish/);
    expect(evictionRisk('volatile-ttl')).toMatch(/uniqueness locks/);
  });

  it('says loudly at start that an evicting policy can drop tasks, and what to set', async () => {
    const { check, logger } = watch([{ run_id: 'a' }], 'allkeys-lru');
    await check();
    expect(logger.messages('error')).toEqual([expect.stringMatching(/allkeys-lru.*noeviction/)]);
  });

  it('says nothing under noeviction while Redis keeps running', async () => {
    const { check, logger } = watch([{ run_id: 'a' }, { run_id: 'a' }]);
    await check();
    await check();
    expect(logger.entries).toEqual([]);
  });

  it('reports a restart that lost the data, and one that reloaded it from the AOF', async () => {
    const { check, logger } = watch([
      { run_id: 'a' },
      { run_id: 'b', aof_enabled: '0', rdb_last_load_keys_loaded: '0' },
      { run_id: 'c', aof_enabled: '1' },
    ]);
    await check();
    await check();
    await check();
    expect(logger.messages('error')).toEqual([
      expect.stringMatching(/without persistence: its data is gone/),
    ]);
    expect(logger.messages('warn')).toEqual([
      expect.stringMatching(/reloaded its data from the append-only/),
    ]);
  });
});
