/**
 * The flow key of a task to enqueue: its `q-flow-key` header (set by the client's `flowKey` option),
 * which the enqueue scripts store as the task hash's `flow_key` field for the per-key flow limits.
 */
import { assertFlowKey, flowKeyHeader, ValidationError, type TaskMessage } from '@q/core';

/** The message's flow key, "" when it has none. Throws `ValidationError` for a key that cannot be used. */
export function flowKeyOf(message: TaskMessage): string {
  const flowKey = message.headers?.[flowKeyHeader];
  if (flowKey === undefined) return '';
  const path = `message.headers.${flowKeyHeader}`;
  assertFlowKey(flowKey, path);
  if (message.groupKey) {
    const problem =
      'A task with a flow key cannot be aggregated in a group: the aggregated task would lose the key. Drop one of them.';
    throw new ValidationError(problem, [{ path, message: 'conflicts with group' }]);
  }
  return flowKey;
}
