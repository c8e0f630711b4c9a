import type { Cluster, Redis } from 'ioredis';

/**
 * Closes a connection politely (QUIT, so replies in flight arrive) when Redis answers, and at once when
 * it does not: QUIT on a connection that is reconnecting would wait for a Redis that may never return,
 * and a broker's close() must always end.
 */
export async function closeConnection(connection: Redis | Cluster, timeout = 1000): Promise<void> {
  if (connection.status !== 'ready') {
    connection.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), timeout);
  });
  try {
    const outcome = await Promise.race([connection.quit(), expired]);
    if (outcome === 'expired') connection.disconnect();
  } catch {
    connection.disconnect();
  } finally {
    clearTimeout(timer);
  }
}
