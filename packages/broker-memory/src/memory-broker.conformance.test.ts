import { testBroker } from '@q/broker-conformance';
import { createMemoryBroker } from './memory-broker';

testBroker({ name: 'memory', createBroker: () => createMemoryBroker() });
