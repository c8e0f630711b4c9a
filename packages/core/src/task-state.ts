/** Every state a task can be in, as stored by the broker. */
export const taskStates = [
  'pending',
  'active',
  'scheduled',
  'retry',
  'archived',
  'completed',
  'aggregating',
] as const;

export type TaskState = (typeof taskStates)[number];

export function isTaskState(value: unknown): value is TaskState {
  return typeof value === 'string' && (taskStates as readonly string[]).includes(value);
}
