export type { AggregatedTask, AggregatedTaskOptions, GroupAggregator } from './group-aggregator';
export type { Handler, HandlerFunction, Middleware, Task, TaskContext } from './handler';
export { RateLimitedError } from './rate-limited-error';
export type { RateLimitedErrorOptions } from './rate-limited-error';
export { defaultRetryDelay } from './retry-delay';
export { RevokeTask } from './revoke-task';
export { HandlerNotFoundError, ServeMux } from './serve-mux';
export { Server } from './server';
export type {
  BrokerReachabilityChange,
  RecordedSignal,
  RunningTask,
  ServerEvents,
  ServerLifecycleState,
  ServerStateChange,
  ShutdownOptions,
} from './server';
export type { RetryDelayFunction, ServerBroker, ServerOptions } from './server-options';
export { SkipRetry } from './skip-retry';
export { TaskAbortedError } from './task-aborted-error';
export type { TaskAbortReason } from './task-aborted-error';
