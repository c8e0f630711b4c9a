export type {
  AggregationCheckOptions,
  AggregationSet,
  Broker,
  DailyStats,
  DequeueOptions,
  DequeueResult,
  EnqueueManyOptions,
  EnqueueManyResult,
  EnqueueRequest,
  EnqueueResult,
  GroupStats,
  GroupStore,
  LeaseExtension,
  LeaseFence,
  LeasedTask,
  ListableState,
  MalformedRecord,
  Page,
  QueueAdmin,
  QueueLocation,
  QueueStats,
  RetryOptions,
  SchedulerEnqueueEvent,
  SchedulerEntrySnapshot,
  SchedulerEntryState,
  SchedulerIdentity,
  SchedulerStore,
  ServerLifecycle,
  ServerSnapshot,
  ServerState,
  StoreInfo,
  TaskConsumer,
  TaskProducer,
  WorkerState,
} from './broker';
export { brokerContractVersion } from './broker';
export { systemClock } from './clock';
export type { Clock } from './clock';
export { jsonCodec } from './codec';
export type { PayloadCodec } from './codec';
export { defineTask } from './define-task';
export type { TaskDefinition } from './define-task';
export { toMilliseconds } from './duration';
export type { Duration } from './duration';
export {
  BatchAbortedError,
  BrokerError,
  BrokerOutOfMemoryError,
  BrokerUnavailableError,
  DuplicateTaskError,
  LeaseLostError,
  MalformedTaskError,
  PayloadEncodingError,
  QError,
  QueueNotEmptyError,
  QueueNotFoundError,
  ShutdownError,
  TaskIdConflictError,
  TaskNotFoundError,
  TaskStateError,
  ValidationError,
} from './errors';
export type { QErrorCode, QErrorOptions, ValidationIssue } from './errors';
export {
  assertFlowKey,
  assertFlowLimitsUpdate,
  flowKeyHeader,
  flowKeyRule,
  hasFlowControl,
} from './flow-control';
export type {
  FlowControl,
  FlowDequeueResult,
  FlowHold,
  FlowHoldReason,
  FlowKeyLimits,
  FlowKeyLimitsUpdate,
  FlowKeyState,
  FlowKeysState,
  FlowLimits,
  FlowLimitsUpdate,
  FlowRate,
  FlowState,
} from './flow-control';
export { silentLogger } from './logger';
export type { LogFunction, Logger } from './logger';
export type { StoredTask, TaskInfo } from './task-info';
export type { TaskMessage } from './task-message';
export type { TaskOptions } from './task-options';
export { isTaskState, taskStates } from './task-state';
export type { TaskState } from './task-state';
export { queueNameRule } from './validation';
