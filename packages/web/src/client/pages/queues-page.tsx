/** The overview: every queue with its sizes, latency and today's counts; charts over time. */
import { useMemo } from 'preact/hooks';
import type { QueueSummary, QueuesResponse } from '../../api-types';
import { ActionButton, Badge, Loading, TimeChart, type ChartSeries } from '../components';
import { queueHref } from '../config';
import { formatBytes, formatDuration, formatNumber } from '../format';
import { useApi } from '../live';
import { recordSample, sampleStates, type Sample } from '../samples';

export const stateColors: Record<string, string> = {
  active: '#2563eb',
  pending: '#7c3aed',
  aggregating: '#0891b2',
  scheduled: '#ca8a04',
  retry: '#ea580c',
  archived: '#6b7280',
  completed: '#16a34a',
  processed: '#16a34a',
  failed: '#dc2626',
};

const stateSeries: ChartSeries[] = sampleStates.map((state) => ({
  label: state,
  color: stateColors[state]!,
}));
const outcomeSeries: ChartSeries[] = [
  { label: 'processed', color: stateColors.processed! },
  { label: 'failed', color: stateColors.failed! },
];

export function QueuesPage() {
  const state = useApi<QueuesResponse>('/queues');
  return (
    <section>
      <h1>Queues</h1>
      <Loading state={state}>
        {(data) => (
          <>
            <QueueTable queues={data.queues} refresh={state.refresh} />
            <Charts sampleKey="*" queues={data.queues} history={data.history} updatedAt={state.updatedAt} />
          </>
        )}
      </Loading>
    </section>
  );
}

function QueueTable({ queues, refresh }: { queues: QueueSummary[]; refresh: () => void }) {
  if (queues.length === 0) return <p class="muted">No queue yet: queues appear once a task is enqueued.</p>;
  return (
    <table class="grid">
      <thead>
        <tr>
          <th>Queue</th>
          <th>State</th>
          <th class="number">Size</th>
          <th class="number">Active</th>
          <th class="number">Pending</th>
          <th class="number">Aggregating</th>
          <th class="number">Scheduled</th>
          <th class="number">Retry</th>
          <th class="number">Archived</th>
          <th class="number">Completed</th>
          <th class="number">Latency</th>
          <th class="number">Processed today</th>
          <th class="number">Failed today</th>
          <th class="number">Memory</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {queues.map((queue) => (
          <tr key={queue.queue} data-queue={queue.queue}>
            <td>
              <a href={queueHref(queue.queue)}>{queue.queue}</a>
            </td>
            <td>{queue.paused ? <Badge value="paused" /> : <Badge value="serving" title="not paused" />}</td>
            <td class="number">{formatNumber(queue.size)}</td>
            {(
              ['active', 'pending', 'aggregating', 'scheduled', 'retry', 'archived', 'completed'] as const
            ).map((name) => (
              <td key={name} class="number">
                <a href={queueHref(queue.queue, `?state=${name}`)}>{formatNumber(queue[name])}</a>
              </td>
            ))}
            <td class="number">{formatDuration(queue.latency)}</td>
            <td class="number">{formatNumber(queue.processedToday)}</td>
            <td class="number">{formatNumber(queue.failedToday)}</td>
            <td class="number">{formatBytes(queue.memoryUsage)}</td>
            <td>
              <PauseButton queue={queue} refresh={refresh} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function PauseButton({ queue, refresh }: { queue: QueueSummary; refresh: () => void }) {
  const name = encodeURIComponent(queue.queue);
  return queue.paused ? (
    <ActionButton path={`/queues/${name}/resume`} label="Resume" onDone={refresh} />
  ) : (
    <ActionButton path={`/queues/${name}/pause`} label="Pause" onDone={refresh} />
  );
}

/** Sizes by state and processed/failed over the time the page was open, and per day from the store. */
export function Charts({
  sampleKey,
  queues,
  history,
  updatedAt,
}: {
  sampleKey: string;
  queues: QueueSummary[];
  history: { date: string; processed: number; failed: number }[];
  updatedAt: number | undefined;
}) {
  // One sample per refresh.
  const samples = useMemo(() => recordSample(sampleKey, queues), [sampleKey, updatedAt]);
  const sizes = useMemo(
    () => columns(samples, (sample) => sampleStates.map((name) => sample[name])),
    [samples.length, updatedAt],
  );
  const outcomes = useMemo(() => {
    const deltas: number[][] = [[], [], []];
    for (let index = 1; index < samples.length; index += 1) {
      const previous = samples[index - 1]!;
      const sample = samples[index]!;
      deltas[0]!.push(sample.time);
      deltas[1]!.push(Math.max(0, sample.processedTotal - previous.processedTotal));
      deltas[2]!.push(Math.max(0, sample.failedTotal - previous.failedTotal));
    }
    return deltas;
  }, [samples.length, updatedAt]);
  const daily = useMemo(
    () => [
      history.map((day) => Date.parse(`${day.date}T12:00:00Z`) / 1000),
      history.map((day) => day.processed),
      history.map((day) => day.failed),
    ],
    [history],
  );
  return (
    <div class="charts">
      <TimeChart title="Tasks by state (since this page opened)" series={stateSeries} data={sizes} />
      <TimeChart title="Processed and failed per refresh" series={outcomeSeries} data={outcomes} />
      <TimeChart title="Processed and failed per day (UTC)" series={outcomeSeries} data={daily} bars />
    </div>
  );
}

function columns(samples: Sample[], values: (sample: Sample) => number[]): number[][] {
  const result: number[][] = [samples.map((sample) => sample.time)];
  samples.forEach((sample) => {
    values(sample).forEach((value, index) => {
      (result[index + 1] ??= []).push(value);
    });
  });
  if (samples.length === 0) for (let index = 0; index < sampleStates.length; index += 1) result.push([]);
  return result;
}
