/**
 * Gathers calls that callers start close together (in the same run of promise jobs, e.g. the callers
 * woken by one batch of replies) and sends them as one batch. A lone call waits for nothing: the batch
 * leaves as soon as the code that started it yields, as ioredis' own auto-pipelining does.
 */

/** Per item: what its batch said of it, or why its batch failed. */
export type CallOutcome<Result> = { ok: true; value: Result } | { ok: false; error: unknown };

interface Waiter<Item, Result> {
  item: Item;
  resolve: (value: Result) => void;
  reject: (error: unknown) => void;
}

export class CallCoalescer<Item, Result> {
  private waiting: Waiter<Item, Result>[] = [];
  private scheduled = false;

  /** `send` answers for every item, in order. */
  constructor(private readonly send: (items: readonly Item[]) => Promise<CallOutcome<Result>[]>) {}

  submit(item: Item): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // Runs once the promise jobs queued so far have run: every call they start is in the batch.
        process.nextTick(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const waiters = this.waiting;
    this.waiting = [];
    this.send(waiters.map((waiter) => waiter.item)).then(
      (outcomes) => {
        for (let index = 0; index < waiters.length; index += 1) {
          const waiter = waiters[index]!;
          const outcome = outcomes[index];
          if (outcome?.ok) waiter.resolve(outcome.value);
          else waiter.reject(outcome ? outcome.error : new Error('Redis sent no reply for this call.'));
        }
      },
      (error: unknown) => {
        for (const waiter of waiters) waiter.reject(error);
      },
    );
  }
}

/** Indexes of `items` grouped by `keyOf`, each group cut into chunks of at most `chunkSize`. */
export function chunksBy<Item>(
  items: readonly Item[],
  keyOf: (item: Item) => string,
  chunkSize: number,
): number[][] {
  const groups = new Map<string, number[]>();
  items.forEach((item, index) => {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(index);
    else groups.set(key, [index]);
  });
  const chunks: number[][] = [];
  for (const indexes of groups.values()) {
    for (let start = 0; start < indexes.length; start += chunkSize) {
      chunks.push(indexes.slice(start, start + chunkSize));
    }
  }
  return chunks;
}
