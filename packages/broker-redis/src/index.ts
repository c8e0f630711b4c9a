export { createRedisBroker } from './create-redis-broker';
export type { RedisBroker } from './redis-broker';
export type {
  RedisBrokerOptions,
  RedisClusterConnectionOptions,
  RedisNodeAddress,
  RedisSentinelConnectionOptions,
} from './redis-broker-options';
