/**
 * The gateway's masking, built once from the `masking:` section of the configuration: the
 * value detectors, the structural Kubernetes rules (built-in rules first, then the operator's),
 * the key of the `hash` action and the bounds. Every problem is found here, at start-up, as a
 * MASKING_INVALID error naming the rule or detector — never on the first response.
 */
import { readFileSync } from 'node:fs';
import { isSluiceError, SluiceError } from '../core/errors.ts';
import type { Config } from '../config/schema.ts';
import { createDetectors, type DetectorSet } from './detectors/index.ts';
import { createKubeMasking, defaultMaskRules, KubeMaskError, type KubeMasking, type MaskRule } from './kube/index.ts';

export type MaskingConfig = Config['masking'];

export interface Masking {
  readonly kube: KubeMasking;
  readonly detectors: DetectorSet;
  /** Largest object, list element or watch event held for masking (characters). */
  readonly maxElementBytes: number;
  /** Longest line of logs or exec output held for masking (bytes). */
  readonly maxLineBytes: number;
}

/** The smallest hash key accepted: HMAC-SHA256 is only as strong as its key. */
const MIN_HASH_KEY_BYTES = 32;

/** Masking as configured, or undefined when `enabled: false`. Throws SluiceError MASKING_INVALID. */
export function createMasking(cfg: MaskingConfig, opts: { readFile?: (path: string) => Buffer } = {}): Masking | undefined {
  if (!cfg.enabled) return undefined;
  const readFile = opts.readFile ?? ((p: string) => readFileSync(p));
  try {
    const detectors = createDetectors({ pii: cfg.detectors.pii, custom: cfg.detectors.custom, disable: cfg.detectors.disable });
    const rules: MaskRule[] = [
      ...defaultMaskRules({ secretValues: cfg.secretValues }),
      ...cfg.rules.map((r): MaskRule => ({ kind: r.kind, paths: r.paths, action: r.action, ...(r.apiGroup !== undefined ? { apiGroup: r.apiGroup } : {}), ...(r.name ? { name: r.name } : {}) })),
    ];
    let hashKey: Buffer | undefined;
    if (cfg.hashKeyFile !== undefined) {
      try {
        hashKey = readFile(cfg.hashKeyFile);
      } catch (e) {
        throw new SluiceError('MASKING_INVALID', `masking.hashKeyFile ${cfg.hashKeyFile} cannot be read: ${(e as Error).message}`);
      }
      if (hashKey.length < MIN_HASH_KEY_BYTES) throw new SluiceError('MASKING_INVALID', `masking.hashKeyFile ${cfg.hashKeyFile} holds ${hashKey.length} bytes; the hash key needs at least ${MIN_HASH_KEY_BYTES}`);
    }
    if (!hashKey && rules.some((r) => r.action === 'hash')) {
      throw new SluiceError('MASKING_INVALID', 'masking: hashing values (secretValues: hash, or a rule with action: hash) needs masking.hashKeyFile');
    }
    let sensitiveEnvNames: RegExp | false | undefined;
    if (cfg.sensitiveEnvNames === false) sensitiveEnvNames = false;
    else if (cfg.sensitiveEnvNames !== undefined) {
      try {
        sensitiveEnvNames = new RegExp(cfg.sensitiveEnvNames, 'i');
      } catch (e) {
        throw new SluiceError('MASKING_INVALID', `masking.sensitiveEnvNames does not compile: ${(e as Error).message}`);
      }
    }
    const kube = createKubeMasking({ detectors, rules, ...(hashKey ? { hashKey } : {}), ...(sensitiveEnvNames !== undefined ? { sensitiveEnvNames } : {}) });
    return { kube, detectors, maxElementBytes: cfg.maxElementBytes, maxLineBytes: cfg.maxLineBytes };
  } catch (e) {
    if (isSluiceError(e) && e.code === 'MASKING_INVALID') throw e;
    if (isSluiceError(e) || e instanceof KubeMaskError) throw new SluiceError('MASKING_INVALID', `masking: ${e.message}`, isSluiceError(e) ? e.detail : undefined);
    throw e;
  }
}
