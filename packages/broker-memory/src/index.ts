export { createMemoryBroker } from './memory-broker';
export type { MemoryBroker, MemoryBrokerOptions } from './memory-broker';
export { createManualClock } from './manual-clock';
export type { AdvanceUntilOptions, ManualClock, ManualClockOptions } from './manual-clock';
