export { testBroker } from './test-broker';
export type { TestBrokerOptions } from './test-broker-options';
