/** Numbers, sizes, durations and times as the pages show them. */

export function formatNumber(value: number): string {
  return value.toLocaleString('en-US');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** `1h 5m`, `42s`, `350ms`. */
export function formatDuration(milliseconds: number): string {
  const ms = Math.abs(milliseconds);
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = Math.floor(ms / 1000);
  const parts: [number, string][] = [
    [Math.floor(seconds / 86_400), 'd'],
    [Math.floor((seconds % 86_400) / 3600), 'h'],
    [Math.floor((seconds % 3600) / 60), 'm'],
    [seconds % 60, 's'],
  ];
  const first = parts.findIndex(([value]) => value > 0);
  return parts
    .slice(first, first + 2)
    .filter(([value]) => value > 0)
    .map(([value, unit]) => `${value}${unit}`)
    .join(' ');
}

/** `3m ago` or `in 2h 1m`, from the browser's clock. */
export function formatRelative(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const difference = new Date(iso).getTime() - now;
  if (Math.abs(difference) < 1000) return 'now';
  return difference > 0 ? `in ${formatDuration(difference)}` : `${formatDuration(difference)} ago`;
}

export function formatTime(iso: string | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
