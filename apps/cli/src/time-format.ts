/** Times and durations for people. */
import { describeDuration } from '@q/inspector';

/** `850ms`, `42s`, `3m 20s`, `2h 5m`, `3d 4h`: the same wording as the inspector's findings. */
export const formatDuration = describeDuration;

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
