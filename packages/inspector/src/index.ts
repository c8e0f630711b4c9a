export { Inspector } from './inspector';
export type { ClusterNode, InspectorOptions, ListOptions, ListTasksOptions } from './inspector';
export { describeDuration } from './describe-duration';
export type { DiagnoseOptions } from './diagnose';
export { findingCodes } from './diagnosis';
export type { Diagnosis, Finding, FindingAction, FindingCode, FindingSeverity } from './diagnosis';
export type { QueueInfo } from './queue-info';
export { describeFlowRate, parseFlowRate } from './queue-limits';
export type {
  QueueKeyLimitsInfo,
  QueueKeyLimitsInput,
  QueueLimitsInfo,
  QueueLimitsInput,
} from './queue-limits';
export { serverStateOf } from './server-info';
export type { ServerInfo, ServerLifecycleInfo, WorkerInfo } from './server-info';
export type { SchedulerEntryInfo, SchedulerEventInfo } from './scheduler-entry-info';
export { createQueueMetricsCollector } from './queue-metrics-collector';
export type { QueueMetricsCollector, QueueMetricsCollectorOptions } from './queue-metrics-collector';
