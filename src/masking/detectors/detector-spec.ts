/**
 * How a detector is described to the engine (create-detectors.ts): its pattern, the part of a
 * match to mask, and the triggers that let the engine skip text where it cannot match.
 *
 * The prefilter contract: every match of `re` contains a match of one of its `triggers`, which
 * starts at most `back` code units after the match's start. A trigger with a `pivot` is matched
 * with the others in one regex over the text, at that pivot character (chosen rare in logs and
 * JSON, so the regex engine skips most of the text); its `source` must begin with the pivot and
 * may check its surroundings with lookarounds. A trigger without a pivot gets a pass of its own
 * (credit-card numbers, whose digits are anything but rare). No triggers at all (operator rules):
 * the detector's own regex runs over every string.
 */

export interface Trigger {
  /** The characters a match of `source` starts with; absent: a separate pass. */
  pivot?: string;
  /** Regex source, flags none; with `pivot`, matched sticky at the pivot character. */
  source: string;
}

export interface DetectorSpec {
  name: string;
  kind: 'credential' | 'pii';
  /** The pattern, flags `g` (and `d` when `groups` are used). */
  re: RegExp;
  /** Capture groups holding the part to mask; the first that took part wins. Absent: the whole match. */
  groups?: readonly number[];
  /** Null: no prefilter (the regex runs on every string). */
  triggers: readonly Trigger[] | null;
  /** Most code units between a match's start and the start of a trigger match inside it. */
  back: number;
  /**
   * Checks (and may narrow) the range to mask [start, end) of a match; null rejects the match,
   * and the search goes on one character after its start.
   */
  refine?: (s: string, start: number, end: number) => readonly [number, number] | null;
}
