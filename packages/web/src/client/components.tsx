/** Pieces shared by the pages. Every text is rendered as text: nothing here sets HTML. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import uPlot from 'uplot';
import type { Bytes } from '../api-types';
import { act } from './api';
import { config, href } from './config';
import { formatBytes, formatRelative, formatTime } from './format';
import { useLive } from './live';

const sections: [string, string][] = [
  ['/', 'Queues'],
  ['/servers', 'Servers'],
  ['/schedulers', 'Schedulers'],
  ['/redis', 'Redis'],
  ['/doctor', 'Doctor'],
];

export function Layout({ children }: { children: ComponentChildren }) {
  const location = useLocation();
  const path = location.path;
  const { live, setLive } = useLive();
  const [query, setQuery] = useState('');
  const current = (section: string): boolean =>
    section === '/'
      ? path === href('/') || path === config.basePath || path.startsWith(href('/queues'))
      : path.startsWith(href(section));
  return (
    <div class="shell">
      <header class="top">
        <a class="brand" href={href('/')}>
          {config.title}
        </a>
        <nav>
          {sections.map(([section, label]) => (
            <a key={section} href={href(section)} class={current(section) ? 'current' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <form
          class="search"
          role="search"
          onSubmit={(event) => {
            event.preventDefault();
            const id = query.trim();
            if (id) location.route(href(`/search?id=${encodeURIComponent(id)}`));
          }}
        >
          <input
            type="search"
            name="id"
            placeholder="Find a task by id"
            aria-label="Task id"
            value={query}
            onInput={(event) => setQuery(event.currentTarget.value)}
          />
        </form>
        <label class="live" title={`Refresh every ${config.refreshInterval / 1000}s`}>
          <input type="checkbox" checked={live} onChange={(event) => setLive(event.currentTarget.checked)} />{' '}
          Live
        </label>
        {config.readOnly ? <span class="badge read-only">read-only</span> : null}
      </header>
      {config.source ? <div class="source">{config.source}</div> : null}
      <main>{children}</main>
    </div>
  );
}

export function Badge({ value, title }: { value: string; title?: string }) {
  return (
    <span class={`badge state-${value.replace(/[^a-z-]/gi, '')}`} title={title}>
      {value}
    </span>
  );
}

/** A time as "3m ago" with the exact time on hover. */
export function When({ iso }: { iso: string | undefined }) {
  if (!iso) return <span class="muted">—</span>;
  return (
    <time dateTime={iso} title={formatTime(iso)}>
      {formatRelative(iso)}
    </time>
  );
}

export function Problem({ error }: { error: string | undefined }) {
  if (!error) return null;
  return (
    <div class="problem" role="alert">
      {error}
    </div>
  );
}

/** The page's data, or what keeps it from showing. */
export function Loading<T>({
  state,
  children,
}: {
  state: { data: T | undefined; error: string | undefined; loading: boolean };
  children: (data: T) => ComponentChildren;
}) {
  if (state.data === undefined) {
    if (state.error) return <Problem error={state.error} />;
    return <p class="muted">Loading…</p>;
  }
  return (
    <>
      {state.error ? <Problem error={`Could not refresh: ${state.error}`} /> : null}
      {children(state.data)}
    </>
  );
}

/** A payload, result or error: text or hex, cut at the handler's preview size with a way to see all. */
export function BytesView({
  bytes,
  label,
  onShowAll,
  download,
}: {
  bytes: Bytes;
  label: string;
  onShowAll?: () => void;
  download?: string;
}) {
  const [mode, setMode] = useState<'text' | 'hex'>(bytes.isText ? 'text' : 'hex');
  const shown = mode === 'text' && bytes.text !== undefined ? prettyJson(bytes.text, bytes) : bytes.hex;
  const cut = bytes.shown < bytes.size;
  return (
    <div class="bytes" data-testid={`bytes-${label}`}>
      <div class="bytes-bar">
        <span>
          {label} · {formatBytes(bytes.size)}
        </span>
        <span class="modes">
          <button
            type="button"
            disabled={!bytes.isText}
            aria-pressed={mode === 'text'}
            onClick={() => setMode('text')}
          >
            Text
          </button>
          <button type="button" aria-pressed={mode === 'hex'} onClick={() => setMode('hex')}>
            Hex
          </button>
        </span>
      </div>
      <pre>{shown || ' '}</pre>
      {cut ? (
        <div class="cut">
          Showing the first {formatBytes(bytes.shown)} of {formatBytes(bytes.size)}.{' '}
          {onShowAll ? (
            <button type="button" class="link" onClick={onShowAll}>
              Show all
            </button>
          ) : null}{' '}
          {download ? (
            <a href={download} download>
              Download
            </a>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

function prettyJson(text: string, bytes: Bytes): string {
  if (bytes.shown < bytes.size) return text;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** A short, one-line look at a payload for tables. */
export function BytesPeek({ bytes }: { bytes: Bytes }) {
  const text = bytes.isText ? (bytes.text ?? '') : bytes.hex.split('\n')[0]?.slice(10, 57);
  return (
    <code class="peek" title={bytes.isText ? text : 'binary; open the task to see it all'}>
      {text}
      {bytes.shown < bytes.size ? '…' : ''}
    </code>
  );
}

export interface ActionProps {
  /** API path of the action, e.g. `/queues/default/pause`. */
  path: string;
  /** Sent as JSON. */
  body?: unknown;
  label: string;
  /** Ask before doing it. */
  confirm?: string;
  danger?: boolean;
  onDone?: (message: string) => void;
}

/** A button that performs an action (absent in read-only mode) and says what happened. */
export function ActionButton({ path, body, label, confirm, danger, onDone }: ActionProps) {
  const notify = useNotice();
  const [busy, setBusy] = useState(false);
  if (config.readOnly) return null;
  return (
    <button
      type="button"
      class={danger ? 'danger' : undefined}
      disabled={busy}
      onClick={() => {
        if (confirm && !window.confirm(confirm)) return;
        setBusy(true);
        act(path, body)
          .then(
            (result) => {
              notify({ kind: 'ok', text: result.message });
              onDone?.(result.message);
            },
            (error: Error) => notify({ kind: 'error', text: error.message }),
          )
          .finally(() => setBusy(false));
      }}
    >
      {label}
    </button>
  );
}

interface Notice {
  kind: 'ok' | 'error';
  text: string;
}

let showNotice: (notice: Notice) => void = () => undefined;
const useNotice = () => showNotice;

/** The last action's outcome, at the bottom of the page. */
export function Notices() {
  const [notice, setNotice] = useState<Notice | undefined>();
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    showNotice = (next) => {
      setNotice(next);
      clearTimeout(timer);
      timer = setTimeout(() => setNotice(undefined), 6000);
    };
    return () => clearTimeout(timer);
  }, []);
  if (!notice) return null;
  return (
    <div class={`notice ${notice.kind}`} role="status">
      {notice.text}
    </div>
  );
}

export function Pager({
  page,
  pageSize,
  total,
  onPage,
}: {
  page: number;
  pageSize: number;
  total: number | undefined;
  onPage: (page: number) => void;
}) {
  const pages = total === undefined ? undefined : Math.max(1, Math.ceil(total / pageSize));
  return (
    <div class="pager">
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        ← Previous
      </button>
      <span>
        Page {page}
        {pages === undefined ? '' : ` of ${pages}`}
      </span>
      <button type="button" disabled={pages !== undefined && page >= pages} onClick={() => onPage(page + 1)}>
        Next →
      </button>
    </div>
  );
}

export interface ChartSeries {
  label: string;
  color: string;
}

/** A time chart (uPlot) that follows its container's width; `data` is [unix seconds[], ...values[]]. */
export function TimeChart({
  title,
  series,
  data,
  bars,
}: {
  title: string;
  series: ChartSeries[];
  data: number[][];
  bars?: boolean;
}) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  useEffect(() => {
    const element = container.current;
    if (!element) return undefined;
    const plot = new uPlot(
      {
        width: Math.max(element.clientWidth, 200),
        height: 200,
        scales: { x: { time: true } },
        axes: [
          { stroke: '#9aa4b2', grid: { stroke: '#e6e9ef' } },
          { stroke: '#9aa4b2', grid: { stroke: '#e6e9ef' } },
        ],
        series: [
          {},
          ...series.map((entry) => ({
            label: entry.label,
            stroke: entry.color,
            width: 2,
            ...(bars ? { fill: `${entry.color}55`, paths: uPlot.paths.bars!({ size: [0.6, 40] }) } : {}),
          })),
        ],
      },
      data as uPlot.AlignedData,
      element,
    );
    chart.current = plot;
    const observer = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(element.clientWidth, 200), height: 200 }),
    );
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
      chart.current = null;
    };
    // The chart is made once per set of series; new data goes through setData below.
  }, [series.map((entry) => entry.label).join(), bars]);
  useEffect(() => {
    chart.current?.setData(data as uPlot.AlignedData);
  }, [data]);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={container} />
    </figure>
  );
}
