import { testBroker } from '@q/broker-conformance';
import { redisUrl, uniquePrefix } from '../test/redis-test-context';
import { createRedisBroker } from './create-redis-broker';

testBroker({
  name: 'redis',
  createBroker: () => createRedisBroker({ url: redisUrl(), prefix: uniquePrefix() }),
});
