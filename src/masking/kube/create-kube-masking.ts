/**
 * The masking configuration of a gateway, built once and shared by every response: compiled
 * rules, the value detectors, and the key of the `hash` action. Building it checks the rules
 * (MASK_RULE_INVALID) so a bad operator rule fails at start-up, not on the first response.
 *
 * The hash is an HMAC-SHA256 under the configured key, shown as `hmac<first 20 hex>`
 * (64 bits: enough to tell values apart, short in `-o yaml`). The key keeps the hashes of
 * low-entropy values (passwords) from being reversed by hashing guesses.
 *
 * Env vars are also masked by their name (sensitive-env-names.ts): `POSTGRES_PASSWORD=…` is
 * replaced by the marker whatever its value looks like. `sensitiveEnvNames` sets the pattern
 * (default DEFAULT_SENSITIVE_ENV_NAMES) or turns it off (`false`).
 */
import { createHmac } from 'node:crypto';
import { compileMaskRules, type CompiledMaskRules } from './compile-rules.ts';
import { defaultMaskRules } from './default-rules.ts';
import { DEFAULT_SENSITIVE_ENV_NAMES, sensitiveNameTest } from './sensitive-env-names.ts';
import { KubeMaskError, type DetectorSet, type MaskRule } from './types.ts';

export interface KubeMaskingOptions {
  detectors: DetectorSet;
  /** The complete rule list; default `defaultMaskRules()`. Add your own after the defaults. */
  rules?: readonly MaskRule[];
  /** Key of the `hash` action; required when a rule hashes. */
  hashKey?: string | Uint8Array;
  /**
   * Env var names whose values are masked whatever they look like (the `value` of an entry
   * `{name, value}` under a rule path ending in `env[*].value`): tested against the name;
   * default DEFAULT_SENSITIVE_ENV_NAMES; `false`: no masking by name (the detectors still run).
   */
  sensitiveEnvNames?: RegExp | false;
}

export interface KubeMasking {
  readonly rules: CompiledMaskRules;
  readonly detectors: DetectorSet;
  /** `hmac<20 hex>` of the value under the hash key. */
  hash(value: string): string;
  /** Whether an env var of this name holds a credential (always false with `sensitiveEnvNames: false`). */
  sensitiveEnvName(name: string): boolean;
}

export function createKubeMasking(opts: KubeMaskingOptions): KubeMasking {
  const names = opts.sensitiveEnvNames ?? DEFAULT_SENSITIVE_ENV_NAMES;
  if (names !== false && !(names instanceof RegExp)) throw new KubeMaskError('MASK_RULE_INVALID', 'sensitiveEnvNames is a regular expression or false');
  const nameTest = sensitiveNameTest(names);
  const rules = compileMaskRules(opts.rules ?? defaultMaskRules(), { envNames: nameTest !== null });
  const key = opts.hashKey;
  if (rules.hashes && (key === undefined || key.length === 0)) throw new KubeMaskError('MASK_RULE_INVALID', 'a masking rule uses the hash action but no hash key is configured');
  return {
    rules,
    detectors: opts.detectors,
    hash(value) {
      return `hmac${createHmac('sha256', key!).update(value).digest('hex').slice(0, 20)}`;
    },
    sensitiveEnvName: nameTest ?? (() => false),
  };
}
