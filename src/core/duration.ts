/**
 * Durations as configuration, policies and the control API write them: hours, minutes and
 * seconds, e.g. `90s`, `15m`, `1h30m` (at least one part, in that order).
 */

/** The syntax; anchored. */
export const DURATION_PATTERN = /^(?=\d)(\d+h)?(\d+m)?(\d+s)?$/;

/** Milliseconds of a duration; NaN when `d` is not one. */
export function durationMs(d: string): number {
  const m = /^(?=\d)(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(d);
  if (!m) return NaN;
  return (Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)) * 1000;
}
