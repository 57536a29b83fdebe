/**
 * Where in a string the value detectors find something, as ranges of UTF-16 code units — what
 * `DetectorSet.mask()` replaces, but with positions, so a streaming masker can mask only the part
 * of a finding that it has not released yet (line-masker.ts).
 *
 * With the set createDetectors() builds, every detector's `scan()` runs and the findings are
 * merged exactly as the engine's `apply()` merges them: a finding inside a marker that is already
 * in the text is ignored; overlapping findings become one range, named after the one that starts
 * first (the earlier in precedence on a tie). For any other DetectorSet the ranges are derived
 * from `mask()` itself: one range from the first to the last character it changed, which covers
 * every finding (conservative: text between two findings is masked too).
 */
import type { Detector, DetectorSet } from '../detectors/index.ts';

export interface FindingRange {
  start: number;
  end: number;
  /** Detector name (the marker's name). */
  name: string;
}

const MARKER = /\[MASKED:[A-Za-z0-9_.:-]{1,80}\]/g;

/** The detectors one by one, when the set exposes them (createDetectors does). */
export function scannersOf(set: DetectorSet): readonly Detector[] | null {
  const d = (set as { detectors?: unknown }).detectors;
  return Array.isArray(d) ? (d as readonly Detector[]) : null;
}

/** Ranges to mask in `s`, sorted and disjoint. */
export function findingRanges(set: DetectorSet, scanners: readonly Detector[] | null, s: string): FindingRange[] {
  if (!set.maybe(s)) return [];
  const masked = set.mask(s);
  if (masked.text === s) return [];
  if (scanners === null) return [diffRange(s, masked.text, Object.keys(masked.hits)[0] ?? 'value')];
  const found: { start: number; end: number; d: number; name: string }[] = [];
  scanners.forEach((det, d) => {
    for (const m of det.scan(s)) found.push({ start: m.start, end: m.end, d, name: det.name });
  });
  found.sort((a, b) => a.start - b.start || a.d - b.d || b.end - a.end);
  let markers: [number, number][] | null = null;
  if (s.includes('[MASKED:')) {
    markers = [];
    MARKER.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = MARKER.exec(s)) !== null) markers.push([m.index, m.index + m[0].length]);
  }
  const out: FindingRange[] = [];
  let cur: FindingRange | null = null;
  for (const f of found) {
    if (f.end <= f.start) continue;
    if (markers !== null && markers.some(([a, b]) => f.start >= a && f.end <= b)) continue;
    if (cur !== null && f.start < cur.end) {
      if (f.end > cur.end) cur.end = f.end;
      continue;
    }
    cur = { start: f.start, end: f.end, name: f.name };
    out.push(cur);
  }
  if (out.length === 0) return [diffRange(s, masked.text, Object.keys(masked.hits)[0] ?? 'value')];
  return out;
}

/** The one range of `s` that `masked` differs in (common prefix and suffix removed). */
function diffRange(s: string, masked: string, name: string): FindingRange {
  let p = 0;
  const n = Math.min(s.length, masked.length);
  while (p < n && s.charCodeAt(p) === masked.charCodeAt(p)) p++;
  let q = 0;
  while (q < n - p && s.charCodeAt(s.length - 1 - q) === masked.charCodeAt(masked.length - 1 - q)) q++;
  return { start: Math.min(p, s.length - 1), end: Math.min(s.length, Math.max(p + 1, s.length - q)), name };
}
