import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createRedisBroker } from './create-redis-broker';

describe('passwords stay out of inspect output', () => {
  it('shows neither the broker nor its connection with the password', () => {
    const secret = 'canary-password-4821';
    for (const broker of [
      createRedisBroker({
        url: `redis://user:${secret}@127.0.0.1:1`,
        connectTimeout: 50,
        redisOptions: { lazyConnect: true },
      }),
      createRedisBroker({
        url: 'redis://127.0.0.1:1',
        password: secret,
        redisOptions: { lazyConnect: true },
      }),
      createRedisBroker({
        sentinel: { sentinels: [{ host: '127.0.0.1', port: 1 }], name: 'm', sentinelPassword: secret },
        password: secret,
        redisOptions: { lazyConnect: true },
      }),
    ]) {
      expect(inspect(broker, { depth: Infinity })).not.toContain(secret);
      expect(inspect({ nested: { broker } }, { depth: Infinity })).not.toContain(secret);
      expect(inspect(broker.connection, { depth: Infinity })).not.toContain(secret);
      broker.connection.disconnect();
    }
  });
});
