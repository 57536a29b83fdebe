/**
 * Value detectors (issue #5, item 2): credentials and, if configured, PII found by value in
 * any string — the strings the structural Kubernetes masker visits (env values, ConfigMap
 * data, annotations, status messages) and every line of a text stream (logs, exec output).
 *
 * - catalog.ts: the built-in detectors, each citing the documented token format it follows;
 *   bounded quantifiers only, so a match has a known maximum length.
 * - create-detectors.ts: the engine: one prefilter regex of rare "pivot" characters, then each
 *   triggered detector over a window around the trigger; linear in the input, also on input
 *   shaped against a detector (test/unit/masking/detectors.test.ts, "adversarial input").
 * - custom-rule.ts: operator rules (`custom:<name>`), refused when they can match the empty
 *   string or nest unbounded quantifiers (regex-bounds.ts).
 *
 * Measured with bench/masking-detectors.ts (5 MB of logs and pod JSON, one core): 300–550 MB/s
 * with the defaults, 170–360 MB/s with e-mail and phone on.
 */
export type { Detector, DetectorConfig, DetectorMatch, DetectorSet, FindingRange } from './types.ts';
export { createDetectors, maskMarker, type DetectorSetWithDetectors } from './create-detectors.ts';
export { luhnValid } from './luhn.ts';
export { regexBounds, type RegexBounds } from './regex-bounds.ts';
