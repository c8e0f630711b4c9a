export { PeriodicTaskManager } from './periodic-task-manager';
export type {
  PeriodicTaskConfig,
  PeriodicTaskConfigProvider,
  PeriodicTaskManagerOptions,
  SyncResult,
} from './periodic-task-manager';
export { Scheduler } from './scheduler';
export type { SchedulerBroker, SchedulerOptions, TickEvent, TickOutcome } from './scheduler';
export { tickTaskId } from './scheduler-entry';
export type { EntryOptions, MissedTickPolicy, ScheduledTask, ScheduledTaskOptions } from './scheduler-entry';
