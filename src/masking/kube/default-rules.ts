/**
 * The built-in masking rules (issue #5, SECURITY.md "Masking"): what Sluice masks in Kubernetes
 * responses when an operator configures nothing. Operators add their own rules after these
 * (`[...defaultMaskRules(), { kind: 'MyApp', apiGroup: 'example.com', paths: ['spec.password'], action: 'marker' }]`).
 *
 * - Secret `data` / `stringData` values → marker (keys kept), or a keyed hash with
 *   `secretValues: 'hash'`;
 * - TokenRequest `status.token` → marker;
 * - kubectl's last-applied-configuration annotation, on any kind → parsed and masked as the
 *   object it contains (a Secret applied with kubectl carries its data there in clear);
 * - container `env[].value` of pods and of everything holding a pod template → detectors (what
 *   every string gets anyway; the rule names the field in the counts), and the marker when the
 *   entry's `name` says it holds a credential (`POSTGRES_PASSWORD`), counted as
 *   `env value (sensitive name)`: sensitive-env-names.ts, `createKubeMasking({ sensitiveEnvNames })`.
 * Every other string goes through the value detectors.
 *
 * The marker is `REDACTED`: readable in `-o yaml`, and valid base64, so typed clients that decode
 * a Secret's `data` (`kubectl describe secret`, client-go informers) still decode it instead of
 * failing on the response. It is stable: tests and tools may match it.
 */
import type { MaskRule } from './types.ts';

export const MASK_MARKER = 'REDACTED';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'];

/** `env[*].value` of every container list under a pod spec at `podSpec`. */
const envPaths = (podSpec: string): string[] => CONTAINER_LISTS.map((c) => `${podSpec}.${c}[*].env[*].value`);

/** Kinds that hold a pod template, and where its spec is. */
const POD_SPECS: { kind: string; apiGroup: string; podSpec: string }[] = [
  { kind: 'Pod', apiGroup: '', podSpec: 'spec' },
  { kind: 'PodTemplate', apiGroup: '', podSpec: 'template.spec' },
  { kind: 'ReplicationController', apiGroup: '', podSpec: 'spec.template.spec' },
  { kind: 'Deployment', apiGroup: 'apps', podSpec: 'spec.template.spec' },
  { kind: 'StatefulSet', apiGroup: 'apps', podSpec: 'spec.template.spec' },
  { kind: 'DaemonSet', apiGroup: 'apps', podSpec: 'spec.template.spec' },
  { kind: 'ReplicaSet', apiGroup: 'apps', podSpec: 'spec.template.spec' },
  { kind: 'Job', apiGroup: 'batch', podSpec: 'spec.template.spec' },
  { kind: 'CronJob', apiGroup: 'batch', podSpec: 'spec.jobTemplate.spec.template.spec' },
];

export interface DefaultRuleOptions {
  /** How Secret values are masked: a fixed marker (default) or a keyed hash (needs a hash key). */
  secretValues?: 'marker' | 'hash';
}

export function defaultMaskRules(opts: DefaultRuleOptions = {}): MaskRule[] {
  const secretAction = opts.secretValues ?? 'marker';
  return [
    { kind: 'Secret', apiGroup: '', paths: ['data.*'], action: secretAction, name: 'Secret data' },
    { kind: 'Secret', apiGroup: '', paths: ['stringData.*'], action: secretAction, name: 'Secret stringData' },
    { kind: 'TokenRequest', apiGroup: 'authentication.k8s.io', paths: ['status.token'], action: 'marker', name: 'TokenRequest token' },
    { kind: '*', paths: [`metadata.annotations[${JSON.stringify(LAST_APPLIED_ANNOTATION)}]`], action: 'json', name: 'last-applied-configuration' },
    ...POD_SPECS.map(({ kind, apiGroup, podSpec }): MaskRule => ({ kind, apiGroup, paths: envPaths(podSpec), action: 'detectors', name: 'env value' })),
  ];
}
