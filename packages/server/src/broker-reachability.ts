import { BrokerUnavailableError, systemClock, type Clock } from '@q/core';

/**
 * Whether the broker answers, as the server last saw it. Every loop reports its calls here; a change is
 * logged once by the server and published in its state, instead of every loop logging every failure.
 */
export class BrokerReachability {
  private current = true;
  private changedAt: number;
  private error: Error | undefined;

  constructor(
    private readonly onChange: (reachable: boolean, error: Error | undefined) => void,
    private readonly clock: Clock = systemClock,
  ) {
    this.changedAt = clock.now();
  }

  get reachable(): boolean {
    return this.current;
  }

  get since(): number {
    return this.changedAt;
  }

  get lastError(): Error | undefined {
    return this.error;
  }

  succeeded(): void {
    if (this.current) return;
    this.current = true;
    this.changedAt = this.clock.now();
    this.error = undefined;
    this.onChange(true, undefined);
  }

  /** Records a failed call; only errors that mean "cannot reach the broker" change reachability. */
  failed(error: unknown): void {
    if (!isUnreachableError(error)) return;
    this.error = error as Error;
    if (!this.current) return;
    this.current = false;
    this.changedAt = this.clock.now();
    this.onChange(false, this.error);
  }
}

const connectionErrorPattern =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|Connection is closed|Stream isn't writeable|connection.*(closed|lost)|LOADING|MASTERDOWN|TRYAGAIN|CLUSTERDOWN/i;

/** True for errors that say the broker cannot be reached, as opposed to an operation being refused. */
export function isUnreachableError(error: unknown): boolean {
  if (error instanceof BrokerUnavailableError) return true;
  if (!(error instanceof Error)) return false;
  if (connectionErrorPattern.test(error.message)) return true;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && connectionErrorPattern.test(code);
}
