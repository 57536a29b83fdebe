/**
 * Structure-aware masking of Kubernetes JSON (issue #5): rules by kind + path, the object
 * masker, and the streaming Transform the gateway puts between the API server's answer and the
 * client. YAML and protobuf answers are not handled here: the gateway asks the API server for
 * JSON (kubectl renders YAML from it).
 */
export { createKubeJsonMasker, DEFAULT_MAX_ELEMENT_BYTES, type KubeJsonMasker, type KubeJsonMaskerOptions } from './kube-json-masker.ts';
export { createKubeMasking, type KubeMasking, type KubeMaskingOptions } from './create-kube-masking.ts';
export { defaultMaskRules, LAST_APPLIED_ANNOTATION, MASK_MARKER, type DefaultRuleOptions } from './default-rules.ts';
export { maskObject } from './mask-object.ts';
export { DEFAULT_SENSITIVE_ENV_NAMES } from './sensitive-env-names.ts';
export { parseRulePath, type PathStep } from './rule-path.ts';
export { KubeMaskError, type DetectorSet, type KindHint, type KubeMaskErrorCode, type MaskAction, type MaskCounts, type MaskRule } from './types.ts';
