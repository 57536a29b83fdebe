/**
 * Types of the structure-aware Kubernetes masker (issue #5): the rules operators write, the
 * counts every masking action leaves behind (field labels and detector names, never a value),
 * and the error it fails with. Kept apart so rules, the object masker and the streaming masker
 * share one vocabulary.
 *
 * The masker needs of the value detectors only what it calls (`DetectorSet` below), so tests can
 * hand it a small stand-in set.
 */

import type { DetectorSet as FullDetectorSet } from '../detectors/types.ts';

/** The value detectors as the Kubernetes masker uses them: `maybe(s)` first, `mask(s)` on a hit. */
export type DetectorSet = Pick<FullDetectorSet, 'names' | 'maybe' | 'mask' | 'maxMatchLength'>;

/**
 * What a rule does to the value at one of its paths:
 * - `marker`: replaced by MASK_MARKER (null stays null; objects and arrays are replaced whole);
 * - `hash`: replaced by `hmac<20 hex>` (24 characters of the base64 alphabet, so a Secret's `data`
 *   still decodes in typed clients), an HMAC-SHA256 of the value under the configured key
 *   (equal values give equal hashes and can be compared without being revealed);
 * - `detectors`: every string under it goes through the value detectors (what happens to every
 *   string anyway; the rule names the field in the counts);
 * - `json`: the string holds a JSON document (kubectl's last-applied-configuration): it is parsed
 *   and masked as the object it contains; a string that does not parse is replaced by the marker.
 */
export type MaskAction = 'marker' | 'hash' | 'detectors' | 'json';

/**
 * A masking rule: the objects it applies to (kind, optionally API group) and the paths of the
 * values it masks, relative to the object (see rule-path.ts for the path syntax).
 */
export interface MaskRule {
  /** Kind as in the object (`Secret`, `MyApp`), or `*` for every kind. */
  kind: string;
  /** API group (`''` for the core group, `apps`, `example.com`); absent: any group. */
  apiGroup?: string;
  /** Paths such as `data.*`, `status.token`, `spec.template.spec.containers[*].env[*].value`. */
  paths: string[];
  action: MaskAction;
  /** The field's name in the counts; default `<kind> <path>`. */
  name?: string;
}

/** What was masked: how many values per field label and how many hits per detector. No values. */
export interface MaskCounts {
  fields: Record<string, number>;
  detectors: Record<string, number>;
}

/** Which kind the objects of a response are when they do not say (items of typed lists carry no `kind`). */
export interface KindHint {
  kind?: string;
  apiGroup?: string;
}

/** Stable codes of the masker's failures; the gateway refuses the response on any of them. */
export type KubeMaskErrorCode = 'MASK_UNPARSEABLE' | 'MASK_ELEMENT_TOO_LARGE' | 'MASK_RULE_INVALID';

export class KubeMaskError extends Error {
  override readonly name = 'KubeMaskError';
  constructor(
    readonly code: KubeMaskErrorCode,
    message: string,
  ) {
    super(message);
  }
}
