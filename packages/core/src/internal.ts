/**
 * `@q/core/internal`: helpers the `@q/*` packages share with one another (option and name validation,
 * task defaults, message and task-info conversion). Not part of the public API: names and shapes change
 * in any release without notice. Applications and third-party brokers use `@q/core`.
 */
export { isTaskDefinition, validatePayload } from './define-task';
export { assertEnqueueRequest } from './enqueue-request';
export { toWholeSecondsUp } from './duration';
export { toTaskInfo } from './task-info';
export { emptyTaskMessage } from './task-message';
export { taskDefaults, taskOptionKeys } from './task-options';
export { assertKnownKeys, assertQueueName, assertTaskType, queueNameProblem } from './validation';
