/**
 * Sends enqueue plans in as few script calls as possible: plans of one queue travel together in one
 * `enqueue-batch` call ("each" mode: a refused task does not stop the others) of at most
 * `maxEnqueueBatch` tasks; a plan alone in its queue goes as the single-task script.
 */
import { chunksBy, type CallOutcome } from './call-coalescer';
import { enqueueBatchCall, enqueueCall, type EnqueuePlan } from './enqueue-plan';
import { replyArray, replyNumber } from './redis-reply';
import { runScript, type RedisConnection } from './redis-scripts';

/** The most tasks one script call writes (bounds the script's run time and its argument list). */
export const maxEnqueueBatch = 500;

/** Per plan, the script's code for it (1 written, -1 duplicate, 0 id taken), or why its call failed. */
export async function sendPlans(
  connection: RedisConnection,
  plans: readonly EnqueuePlan[],
  now: number,
): Promise<CallOutcome<number>[]> {
  const outcomes = new Array<CallOutcome<number>>(plans.length);
  await Promise.all(
    chunksBy(plans, (plan) => plan.message.queue, maxEnqueueBatch).map(async (indexes) => {
      try {
        if (indexes.length === 1) {
          const index = indexes[0]!;
          const reply = await runScript(connection, enqueueCall(plans[index]!, now));
          outcomes[index] = { ok: true, value: replyNumber(reply) };
          return;
        }
        const call = enqueueBatchCall(
          indexes.map((index) => plans[index]!),
          now,
          'each',
        );
        const [, ...codes] = replyArray(await runScript(connection, call)).map(replyNumber);
        indexes.forEach((planIndex, position) => {
          outcomes[planIndex] = { ok: true, value: codes[position] ?? 0 };
        });
      } catch (error) {
        for (const index of indexes) outcomes[index] = { ok: false, error };
      }
    }),
  );
  return outcomes;
}
