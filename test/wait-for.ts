/** Polls `check` until it returns a truthy value; fails after `timeout` ms with `what` in the message. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeout = 15_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
