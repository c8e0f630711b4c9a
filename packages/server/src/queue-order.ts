/**
 * The order in which the fetch loop asks the broker for tasks, as Go Asynq chooses it: by weight, highest
 * first, with strict priority; otherwise a weighted random order in which each queue comes first with
 * probability weight / sum of weights (Asynq's shuffle of weight-many copies gives the same distribution).
 */
export type QueueOrder = () => string[];

export function createQueueOrder(
  queues: Readonly<Record<string, number>>,
  strictPriority: boolean,
  random: () => number = Math.random,
): QueueOrder {
  const entries = Object.entries(queues);
  if (entries.length === 1) {
    const only = [entries[0]![0]];
    return () => only;
  }
  if (strictPriority) {
    const sorted = entries
      .slice()
      .sort((left, right) => right[1] - left[1])
      .map(([name]) => name);
    return () => sorted;
  }
  return () => {
    const remaining = entries.slice();
    let total = remaining.reduce((sum, [, weight]) => sum + weight, 0);
    const order: string[] = [];
    while (remaining.length > 0) {
      let pick = random() * total;
      let index = 0;
      while (index < remaining.length - 1 && pick >= remaining[index]![1]) {
        pick -= remaining[index]![1];
        index += 1;
      }
      const [name, weight] = remaining.splice(index, 1)[0]!;
      order.push(name);
      total -= weight;
    }
    return order;
  };
}
