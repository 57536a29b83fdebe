/**
 * Masking of text streams (issue #5): pod logs (`logs`, `logs -f`) and the stdout/stderr of
 * exec and attach, line by line with the value detectors, in bounded memory.
 *
 * - line-masker.ts: the core (no streams, no timers): chunk boundaries, UTF-8, the line bound,
 *   idle release of interactive output; its header documents the trade-offs.
 * - create-text-masker.ts: the core as a Transform, for `pods/log` responses.
 */
export { LineMasker, DEFAULT_MAX_LINE_BYTES, OVERSIZE_MARKER_NAME, type LineMaskerOptions, type TextMaskCounts } from './line-masker.ts';
export { createTextMasker, type TextMasker, type TextMaskerOptions } from './create-text-masker.ts';
