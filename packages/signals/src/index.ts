export { run } from './run';
export type { RunResult } from './process-lifecycle';
export type { HealthOptions, RunOptions } from './run-options';
export type {
  ServerLikeTask,
  ServerLikeState,
  ServerLike,
  ServerShutdownOptions,
  ServerLikeStateChange,
} from './server-like';
export type { HealthReport } from './health-check';
export type { ReceivedSignal, StateDump } from './state-dump';
