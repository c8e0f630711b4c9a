/**
 * Exponential backoff with jitter and a cap, for loops that must not spin while the broker is down
 * (Go Asynq loops on dequeue errors without pausing).
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initial = 100,
    private readonly maximum = 2000,
  ) {}

  /** The next wait in milliseconds: doubles each time up to the cap, with ±20 % jitter. */
  next(): number {
    const base = Math.min(this.maximum, this.initial * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  reset(): void {
    this.attempt = 0;
  }

  get failures(): number {
    return this.attempt;
  }
}
