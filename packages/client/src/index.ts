export { Client } from './client';
export type { ClientOptions, EnqueueManyOptions, EnqueueOutcome, TaskToEnqueue } from './client';
export type { EnqueueInterceptor, OutgoingTask } from './enqueue-interceptor';
