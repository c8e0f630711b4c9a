/** Unix milliseconds to and from `google.protobuf.Timestamp`, with Go's zero time standing for "never". */
import { create } from '@bufbuild/protobuf';
import { TimestampSchema, type Timestamp } from '@bufbuild/protobuf/wkt';

/** Go's `time.Time{}` (year 1) as a Timestamp: what Go writes for a time that never happened. */
export const goZeroTimeSeconds = -62_135_596_800n;

export function toTimestamp(milliseconds: number): Timestamp {
  const whole = Math.floor(milliseconds);
  const seconds = Math.floor(whole / 1000);
  return create(TimestampSchema, { seconds: BigInt(seconds), nanos: (whole - seconds * 1000) * 1_000_000 });
}

/** Like `toTimestamp`, but 0 becomes Go's zero time, as Go writes a time that is unset. */
export function toTimestampOrGoZero(milliseconds: number): Timestamp {
  if (milliseconds === 0) return create(TimestampSchema, { seconds: goZeroTimeSeconds, nanos: 0 });
  return toTimestamp(milliseconds);
}

/** Milliseconds, or 0 for an absent timestamp and for Go's zero time (or anything before 1970). */
export function fromTimestamp(timestamp: Timestamp | undefined): number {
  if (!timestamp || timestamp.seconds < 0n) return 0;
  return Number(timestamp.seconds) * 1000 + Math.floor(timestamp.nanos / 1_000_000);
}
