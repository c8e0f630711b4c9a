/** Facts about the Redis holding the queues: version, mode, eviction policy, memory, clock. */
import type { RedisResponse } from '../../api-types';
import { Loading, Problem } from '../components';
import { formatBytes, formatDuration, formatNumber, formatTime } from '../format';
import { useApi } from '../live';

export function RedisPage() {
  const state = useApi<RedisResponse>('/redis');
  return (
    <section>
      <h1>Redis</h1>
      <Loading state={state}>
        {(data) => (
          <>
            {data.storeError ? <Problem error={`Store facts unavailable: ${data.storeError}`} /> : null}
            <dl class="details">
              {data.source ? (
                <>
                  <dt>Address</dt>
                  <dd>
                    <code>{data.source}</code>
                  </dd>
                </>
              ) : null}
              {data.store ? (
                <>
                  <dt>Version</dt>
                  <dd>{data.store.version}</dd>
                  <dt>Mode</dt>
                  <dd>{data.store.mode}</dd>
                  <dt>Eviction policy</dt>
                  <dd>
                    {data.store.evictionPolicy ?? 'not reported'}
                    {data.store.evictionPolicy && data.store.evictionPolicy !== 'noeviction' ? (
                      <span class="error-text"> — Redis may drop tasks when full; use noeviction</span>
                    ) : null}
                  </dd>
                  <dt>Memory used</dt>
                  <dd>
                    {data.store.usedMemory === undefined
                      ? 'not reported'
                      : formatBytes(data.store.usedMemory)}
                  </dd>
                  <dt>Memory limit</dt>
                  <dd>
                    {data.store.maxMemory === undefined
                      ? 'not reported'
                      : data.store.maxMemory === 0
                        ? 'none'
                        : formatBytes(data.store.maxMemory)}
                  </dd>
                  <dt>Clock</dt>
                  <dd>
                    {formatTime(data.store.time)} (
                    {formatDuration(Math.abs(new Date(data.store.time).getTime() - Date.now()))} from this
                    browser's)
                  </dd>
                </>
              ) : null}
            </dl>
            <h2>Memory by queue</h2>
            <table class="grid">
              <thead>
                <tr>
                  <th>Queue</th>
                  <th class="number">Tasks</th>
                  <th class="number">Memory</th>
                </tr>
              </thead>
              <tbody>
                {data.queues.map((queue) => (
                  <tr key={queue.queue}>
                    <td>{queue.queue}</td>
                    <td class="number">{formatNumber(queue.size)}</td>
                    <td class="number">{formatBytes(queue.memoryUsage)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </Loading>
    </section>
  );
}
