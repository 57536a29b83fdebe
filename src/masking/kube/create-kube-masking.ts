/**
 * The masking configuration of a gateway, built once and shared by every response: compiled
 * rules, the value detectors, and the key of the `hash` action. Building it checks the rules
 * (MASK_RULE_INVALID) so a bad operator rule fails at start-up, not on the first response.
 *
 * The hash is an HMAC-SHA256 under the configured key, shown as `sha256:<first 16 hex>`
 * (64 bits: enough to tell values apart, short in `-o yaml`). The key keeps the hashes of
 * low-entropy values (passwords) from being reversed by hashing guesses.
 */
import { createHmac } from 'node:crypto';
import { compileMaskRules, type CompiledMaskRules } from './compile-rules.ts';
import { defaultMaskRules } from './default-rules.ts';
import { KubeMaskError, type DetectorSet, type MaskRule } from './types.ts';

export interface KubeMaskingOptions {
  detectors: DetectorSet;
  /** The complete rule list; default `defaultMaskRules()`. Add your own after the defaults. */
  rules?: readonly MaskRule[];
  /** Key of the `hash` action; required when a rule hashes. */
  hashKey?: string | Uint8Array;
}

export interface KubeMasking {
  readonly rules: CompiledMaskRules;
  readonly detectors: DetectorSet;
  /** `sha256:<16 hex>` of the value under the hash key. */
  hash(value: string): string;
}

export function createKubeMasking(opts: KubeMaskingOptions): KubeMasking {
  const rules = compileMaskRules(opts.rules ?? defaultMaskRules());
  const key = opts.hashKey;
  if (rules.hashes && (key === undefined || key.length === 0)) throw new KubeMaskError('MASK_RULE_INVALID', 'a masking rule uses the hash action but no hash key is configured');
  return {
    rules,
    detectors: opts.detectors,
    hash(value) {
      return `sha256:${createHmac('sha256', key!).update(value).digest('hex').slice(0, 16)}`;
    },
  };
}
