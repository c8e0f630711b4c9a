/**
 * Decides where an enqueue request goes (pending, scheduled or its group, with or without a uniqueness
 * lock), as Go's Asynq client does, and builds the script call that writes it there.
 */
import {
  DuplicateTaskError,
  TaskIdConflictError,
  type EnqueueRequest,
  type EnqueueResult,
  type QError,
  type TaskMessage,
  type TaskState,
} from '@q/core';
import { assertEnqueueRequest } from '@q/core/internal';
import type { QueueKeys, RedisKeys } from './redis-keys';
import type { ScriptCall } from './redis-scripts';
import { PackedArgument } from './packed-argument';
import { encodeTaskMessage } from './task-message-codec';
import { flowKeyOf } from './enqueue-flow-key';
import { toUnixNanoseconds, toUnixSeconds, toWholeSeconds } from './unix-time';

export type EnqueueTarget = Extract<TaskState, 'pending' | 'scheduled' | 'aggregating'>;

export interface EnqueuePlan {
  keys: QueueKeys;
  message: TaskMessage;
  encoded: Uint8Array;
  target: EnqueueTarget;
  /** Unix seconds the scheduled task is due; 0 otherwise. */
  processAtSeconds: number;
  /** Lock TTL in whole seconds; 0 when not unique. */
  uniqueTtlSeconds: number;
  /** The task's flow key (its `q-flow-key` header), stored as the hash field `flow_key`; "" when none. */
  flowKey: string;
  result: EnqueueResult;
}

/** Validates `request` and plans its write. Throws `ValidationError` for a request that cannot be sent. */
export function planEnqueue(keys: RedisKeys, request: EnqueueRequest, now: number): EnqueuePlan {
  assertEnqueueRequest(request);
  const { processAt, uniqueTtl } = request;
  const queueKeys = keys.queue(request.message.queue);
  const scheduled = processAt !== undefined && processAt > now;
  const target: EnqueueTarget = scheduled
    ? 'scheduled'
    : request.message.groupKey
      ? 'aggregating'
      : 'pending';
  const flowKey = flowKeyOf(request.message);
  const message: TaskMessage = {
    ...request.message,
    uniqueKey: uniqueTtl === undefined ? '' : queueKeys.unique(request.message.type, request.message.payload),
  };
  let uniqueTtlSeconds = 0;
  if (uniqueTtl !== undefined) {
    // A scheduled task's lock covers the wait too, as in Go: TTL = processAt + unique - now.
    uniqueTtlSeconds = toWholeSeconds(scheduled ? processAt - now + uniqueTtl : uniqueTtl);
  }
  const result: EnqueueResult = { message, state: target };
  if (target === 'pending') result.nextProcessAt = now;
  if (target === 'scheduled') result.nextProcessAt = processAt;
  return {
    keys: queueKeys,
    message,
    encoded: encodeTaskMessage(message),
    target,
    processAtSeconds: scheduled ? toUnixSeconds(processAt) : 0,
    uniqueTtlSeconds,
    flowKey,
    result,
  };
}

/** The single-task script call for a plan (enqueue, schedule or add-to-group, unique or not). */
export function enqueueCall(plan: EnqueuePlan, now: number): ScriptCall {
  const { keys, message, encoded } = plan;
  const taskKey = keys.task(message.id);
  const unique = plan.uniqueTtlSeconds > 0;
  if (plan.target === 'scheduled') {
    return unique
      ? {
          script: 'schedule-unique',
          keys: [message.uniqueKey, taskKey, keys.scheduled],
          args: [message.id, plan.uniqueTtlSeconds, plan.processAtSeconds, encoded, plan.flowKey],
        }
      : {
          script: 'schedule',
          keys: [taskKey, keys.scheduled],
          args: [encoded, plan.processAtSeconds, message.id, plan.flowKey],
        };
  }
  if (plan.target === 'aggregating') {
    const groupKeys = [taskKey, keys.group(message.groupKey), keys.groups];
    const groupArgs = [encoded, message.id, toUnixSeconds(now), message.groupKey];
    return unique
      ? {
          script: 'add-to-group-unique',
          keys: [...groupKeys, message.uniqueKey],
          args: [...groupArgs, plan.uniqueTtlSeconds],
        }
      : { script: 'add-to-group', keys: groupKeys, args: groupArgs };
  }
  return unique
    ? {
        script: 'enqueue-unique',
        keys: [message.uniqueKey, taskKey, keys.pending, ...handOverKeys(keys)],
        args: [message.id, plan.uniqueTtlSeconds, encoded, ...pendingArguments(plan, now)],
      }
    : {
        script: 'enqueue',
        keys: [taskKey, keys.pending, ...handOverKeys(keys)],
        args: [encoded, message.id, ...pendingArguments(plan, now)],
      };
}

/** The arguments enqueue and enqueue-unique end with: pending_since, the wake-up, the flow key, the hand-over. */
function pendingArguments({ keys, flowKey }: EnqueuePlan, now: number): (string | number)[] {
  return [toUnixNanoseconds(now), keys.notify, keys.queue, flowKey, Math.floor(now), keys.taskPrefix];
}

/** The keys an enqueue script reads or writes to hand a pending task to a waiting server. */
function handOverKeys(keys: QueueKeys): string[] {
  return [keys.active, keys.lease, keys.waiters, keys.paused, keys.flow];
}

/**
 * One call for plans of one queue (see lua/enqueue-batch.lua): `atomic` writes all or none, `each`
 * writes every task that is not refused.
 */
export function enqueueBatchCall(
  plans: readonly EnqueuePlan[],
  now: number,
  mode: 'atomic' | 'each',
): ScriptCall {
  const first = plans[0];
  if (!first) throw new Error('enqueueBatchCall needs at least one plan.');
  const { keys: queueKeys } = first;
  const keys = [queueKeys.pending, queueKeys.scheduled, queueKeys.groups, ...handOverKeys(queueKeys)];
  const args: (string | number | Uint8Array)[] = [
    toUnixNanoseconds(now),
    toUnixSeconds(now),
    queueKeys.notify,
    queueKeys.queue,
    plans.length,
    mode,
    Math.floor(now),
    queueKeys.taskPrefix,
  ];
  for (const plan of plans) {
    if (plan.uniqueTtlSeconds > 0) keys.push(plan.message.uniqueKey);
    if (plan.target === 'aggregating') keys.push(queueKeys.group(plan.message.groupKey));
  }
  args.push(packTasks(plans));
  return { script: 'enqueue-batch', keys, args };
}

/** A plan that enqueue-batch.lua writes from its id and message alone: pending, no lock, no flow key. */
function isPlain(plan: EnqueuePlan): boolean {
  return plan.target === 'pending' && plan.uniqueTtlSeconds === 0 && plan.flowKey === '';
}

/** The five strings enqueue-batch.lua reads after a task that is not plain. */
function planDetails(plan: EnqueuePlan): string[] {
  return [
    plan.target,
    String(plan.processAtSeconds),
    String(plan.uniqueTtlSeconds),
    plan.target === 'aggregating' ? plan.message.groupKey : '',
    plan.flowKey,
  ];
}

/**
 * The tasks of a batch in one binary argument, as enqueue-batch.lua unpacks them (see its ARGV[9]): per
 * task the id and the message, then 0 (plain) or 1 and five more strings.
 */
export function packTasks(plans: readonly EnqueuePlan[]): Buffer {
  const packed = new PackedArgument();
  for (const plan of plans) {
    packed.text(plan.message.id).bytes(plan.encoded);
    if (isPlain(plan)) {
      packed.flag(0);
      continue;
    }
    packed.flag(1);
    for (const text of planDetails(plan)) packed.text(text);
  }
  return packed.toBuffer();
}

/** The error for a script's refusal code (-1 duplicate, 0 id conflict), or undefined when accepted. */
export function refusal(plan: EnqueuePlan, code: number): QError | undefined {
  if (code === 1) return undefined;
  if (code === -1) return new DuplicateTaskError(plan.message.queue, plan.message.type);
  return new TaskIdConflictError(plan.message.queue, plan.message.id);
}
