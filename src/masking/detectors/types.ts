/**
 * The vocabulary of the value detectors: what a detector finds, how a set of them is configured,
 * and the set the structural masker and the stream maskers call. Kept apart so the catalogue,
 * the engine and operator rules share it.
 */

/** One finding: the range to mask, end exclusive, in UTF-16 code units of the scanned string. */
export interface DetectorMatch {
  detector: string;
  start: number;
  end: number;
}

/** A range `mask()` replaces by `[MASKED:<detector>]`. */
export interface FindingRange {
  start: number;
  end: number;
  detector: string;
}

export interface Detector {
  /** Stable identifier (`jwt`, `aws-access-key-id`, `custom:<name>`); appears in counts and markers. */
  name: string;
  kind: 'credential' | 'pii';
  /** All matches in `s`, left to right, not overlapping. */
  scan(s: string): DetectorMatch[];
}

export interface DetectorConfig {
  /**
   * PII detectors. Defaults: `creditCard` on (common DLP practice: a card number is never
   * needed in clear by an operator), `email` and `phone` off (they are everywhere in ordinary
   * output and rarely a secret).
   */
  pii?: { email?: boolean; phone?: boolean; creditCard?: boolean };
  /**
   * Operator rules, each the detector `custom:<name>`. `pattern` is ECMAScript regex source;
   * `flags` may hold `i`, `m`, `s`, `u` and is used as given (nothing is added but `g`).
   * Rejected with an error naming the rule: a pattern that does not compile, that can match the
   * empty string, or that nests unbounded quantifiers (`(a+)+`, catastrophic backtracking).
   */
  custom?: { name: string; pattern: string; flags?: string }[];
  /** Detector names to turn off (`jwt`, `credit-card`, `custom:<name>`…); an unknown name is an error. */
  disable?: string[];
}

export interface DetectorSet {
  /** Names of the detectors that are on, in precedence order. */
  readonly names: readonly string[];
  /** Quick test: may this string contain anything (cheap prefilter, no false negatives). */
  maybe(s: string): boolean;
  /**
   * Replace every match by `[MASKED:<detector>]`; returns the masked string and the counts per
   * detector (never the secret). Unchanged string → same string instance.
   */
  mask(s: string): { text: string; hits: Record<string, number> };
  /**
   * What `mask(s)` replaces, with positions: sorted, disjoint ranges (end exclusive, UTF-16 code
   * units), each named after its detector. Streaming maskers use it to replace only text they have
   * not released yet.
   */
  findings(s: string): FindingRange[];
  /**
   * Longest match any detector can produce that a line-based stream must keep as overlap (for
   * chunk-boundary safety); Infinity if unbounded (then streams cut at line ends).
   */
  readonly maxMatchLength: number;
}
