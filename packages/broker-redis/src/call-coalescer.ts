/**
 * Gathers calls that callers start close together (in the same run of promise jobs, e.g. the callers
 * woken by one batch of replies) and sends them as one batch. A lone call waits for nothing: the batch
 * leaves as soon as the code that started it yields, as ioredis' own auto-pipelining does. Another call
 * leaving at the same moment may claim some of the items to carry them itself (see `claimAtFlush`).
 */

/** Per item: what its batch said of it, or why its batch failed. */
export type CallOutcome<Result> = { ok: true; value: Result } | { ok: false; error: unknown };

/** An item waiting to be sent, and how to answer its caller. */
export interface Waiter<Item, Result> {
  item: Item;
  resolve: (value: Result) => void;
  reject: (error: unknown) => void;
}

/** A call that will take some of the waiting items at the next flush (see `claimAtFlush`). */
interface Claim<Item, Result> {
  wanted: (item: Item) => boolean;
  limit: number;
  resolve: (claimed: Waiter<Item, Result>[]) => void;
}

export class CallCoalescer<Item, Result> {
  private waiting: Waiter<Item, Result>[] = [];
  private claims: Claim<Item, Result>[] = [];
  private scheduled = false;

  /**
   * `send` answers for every item, in order; `eager` says the batch left early, full, before the turn
   * ended. With `eagerAt`, a batch leaves as soon as that many items wait.
   */
  constructor(
    private readonly send: (items: readonly Item[], eager: boolean) => Promise<CallOutcome<Result>[]>,
    private readonly eagerAt = Infinity,
  ) {}

  submit(item: Item): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.waiting.length >= this.eagerAt && this.claims.length === 0) this.sendWaiting(true);
      else this.schedule();
    });
  }

  /**
   * Resolves at the next flush with up to `limit` of the items submitted by then that are `wanted`: they
   * leave the batch, and the claimer sends them with a call of its own and answers their callers. So a
   * call started in the same run of promise jobs as the items (a dequeue started by the tasks whose
   * acknowledgements these are) carries the ones submitted after it too.
   */
  claimAtFlush(wanted: (item: Item) => boolean, limit: number): Promise<Waiter<Item, Result>[]> {
    return new Promise((resolve) => {
      this.claims.push({ wanted, limit, resolve });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Runs once the promise jobs queued so far have run: every call they start is in the batch.
    process.nextTick(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const claims = this.claims;
    this.claims = [];
    for (const claim of claims) claim.resolve(this.take(claim.wanted, claim.limit));
    this.sendWaiting(false);
  }

  private sendWaiting(eager: boolean): void {
    const waiters = this.waiting;
    this.waiting = [];
    if (waiters.length === 0) return;
    this.send(
      waiters.map((waiter) => waiter.item),
      eager,
    ).then(
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

  /** Removes up to `limit` wanted items from the batch, oldest first. */
  private take(wanted: (item: Item) => boolean, limit: number): Waiter<Item, Result>[] {
    const taken: Waiter<Item, Result>[] = [];
    if (this.waiting.length === 0 || limit <= 0) return taken;
    const kept: Waiter<Item, Result>[] = [];
    for (const waiter of this.waiting) {
      if (taken.length < limit && wanted(waiter.item)) taken.push(waiter);
      else kept.push(waiter);
    }
    this.waiting = kept;
    return taken;
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
