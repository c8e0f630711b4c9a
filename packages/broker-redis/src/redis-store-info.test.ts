import { describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { keySlot, parseInfo, storeMode } from './redis-store-info';

describe('redis store info', () => {
  it('computes cluster key slots as Redis does, honouring hash tags', () => {
    // Values from CLUSTER KEYSLOT on Redis 7.
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('asynq:{default}:pending')).toBe(keySlot('default'));
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('a{}b')).toBe(keySlot('a{}b'));
  });

  it('parses INFO into fields', () => {
    expect(
      parseInfo(
        '# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n\r\n# Memory\r\nmaxmemory_policy:noeviction\r\n',
      ),
    ).toEqual({
      redis_version: '7.0.15',
      redis_mode: 'standalone',
      maxmemory_policy: 'noeviction',
    });
  });

  it('names the deployment in the words of the contract: standalone, partitioned, replicated', () => {
    const standalone = new Redis({ lazyConnect: true });
    const sentinel = new Redis({ lazyConnect: true, sentinels: [{ host: '127.0.0.1', port: 1 }], name: 'q' });
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
    try {
      expect(storeMode(standalone)).toBe('standalone');
      expect(storeMode(sentinel)).toBe('replicated');
      expect(storeMode(cluster)).toBe('partitioned');
    } finally {
      standalone.disconnect();
      sentinel.disconnect();
      cluster.disconnect();
    }
  });
});
