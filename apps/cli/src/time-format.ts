/** Times and durations for people. */

/** `850ms`, `42s`, `3m 20s`, `2h 5m`, `3d 4h`. */
export function formatDuration(milliseconds: number): string {
  const value = Math.abs(milliseconds);
  if (value < 1000) return `${Math.round(value)}ms`;
  const seconds = Math.round(value / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return seconds % 60 ? `${minutes}m ${seconds % 60}s` : `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours}h ${minutes % 60}m` : `${hours}h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days}d ${hours % 24}h` : `${days}d`;
}

/** `2026-11-26 14:35:07Z`, or '' for no time. */
export function formatTime(date: Date | undefined): string {
  if (!date || Number.isNaN(date.getTime())) return '';
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** `in 5m`, `3m ago`, `now`. */
export function formatRelative(date: Date | undefined, now: number): string {
  if (!date || Number.isNaN(date.getTime())) return '';
  const difference = date.getTime() - now;
  if (Math.abs(difference) < 1000) return 'now';
  return difference > 0 ? `in ${formatDuration(difference)}` : `${formatDuration(difference)} ago`;
}

/** A time with its distance from now: `2026-11-26 14:35:07Z (3m ago)`. */
export function formatTimeAndRelative(date: Date | undefined, now: number): string {
  if (!date || Number.isNaN(date.getTime())) return '';
  return `${formatTime(date)} (${formatRelative(date, now)})`;
}
