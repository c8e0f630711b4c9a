export { Client } from './client';
export type { ClientOptions, EnqueueManyOptions, EnqueueOutcome, TaskToEnqueue } from './client';
