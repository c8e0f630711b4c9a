/** The kill loop of R1 and R9: SIGKILL a random worker every 2-5 s and start it again, until `until`. */
import type { Scenario } from './scenario';

const randomBetween = (min: number, max: number): number => min + Math.random() * (max - min);

/** Returns when each kill happened. Ends with a last kill once `until` settled. */
export async function killWorkersAtRandom(
  scenario: Scenario,
  names: readonly string[],
  until: Promise<unknown>,
): Promise<number[]> {
  let finished = false;
  void until.finally(() => (finished = true)).catch(() => undefined);
  const kills: number[] = [];
  const restarts: Promise<unknown>[] = [];
  while (!finished) {
    await Promise.race([new Promise((resolve) => setTimeout(resolve, randomBetween(2000, 5000))), until]);
    const name = names[Math.floor(Math.random() * names.length)]!;
    // One kill at a time per worker: wait for a restart still under way.
    await Promise.all(restarts);
    kills.push(Date.now());
    await scenario.killWorker(name);
    if (!finished) restarts.push(scenario.startWorker(name));
  }
  await Promise.all(restarts);
  return kills;
}
