import { brokerContractVersion } from '@q/core';
import { describe, expect, it } from 'vitest';
import { consumerCases } from './consumer-cases';
import { flowControlCases } from './flow-control-cases';
import { leaseCases } from './lease-cases';
import { producerCases } from './producer-cases';
import { queueAdminCases } from './queue-admin-cases';
import { schedulerStoreCases } from './scheduler-store-cases';
import { createSuiteContext } from './suite-context';
import type { TestBrokerOptions } from './test-broker-options';

/**
 * Registers the broker conformance suite with vitest: every behaviour of the `Broker` contract that
 * @q's client, server, scheduler and inspector rely on, checked through the contract alone. Call it at
 * the top level of a test file:
 *
 * ```ts
 * testBroker({ name: 'redis', createBroker: () => createRedisBroker({ url, prefix: randomPrefix() }) });
 * ```
 */
export function testBroker(options: TestBrokerOptions): void {
  describe(`broker conformance: ${options.name}`, () => {
    const context = createSuiteContext(options);
    it(`implements version ${brokerContractVersion} of the broker contract`, () => {
      const broker = context.broker();
      expect(broker.contractVersion, 'Broker.contractVersion').toBe(brokerContractVersion);
      expect(typeof broker.name).toBe('string');
    });
    producerCases(context);
    consumerCases(context);
    leaseCases(context);
    schedulerStoreCases(context);
    queueAdminCases(context);
    flowControlCases(context);
  });
}
