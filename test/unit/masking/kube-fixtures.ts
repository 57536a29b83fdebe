/**
 * Fixtures for the Kubernetes masker tests and bench/masking-kube.ts: realistic objects as the
 * API server serialises them (typed lists carry no `kind` on their items; managedFields,
 * labels, annotations, probes, env), generated deterministically, plus a small stand-in
 * DetectorSet (JWT, AWS access key id, URL credentials) that follows the interface of
 * src/masking/detectors/index.ts, so these tests do not depend on the detectors' own rules.
 */
import type { DetectorSet } from '../../../src/masking/kube/types.ts';

// ---- a stand-in DetectorSet --------------------------------------------------------------------

const PATTERNS: [name: string, pattern: RegExp, replacement: string][] = [
  ['jwt', /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '[masked:jwt]'],
  ['aws-access-key-id', /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, '[masked:aws-access-key-id]'],
  ['url-credentials', /\b([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@/\s]+@/gi, '$1[masked]@'],
];

/** The three patterns above, with `maybe()` as a cheap pre-filter like the real set's. */
export function standInDetectors(): DetectorSet {
  return {
    names: PATTERNS.map(([name]) => name),
    maxMatchLength: 8192,
    maybe: (s) => s.length >= 16 && (s.includes('eyJ') || s.includes('AKIA') || s.includes('ASIA') || s.includes('://')),
    mask(s) {
      const hits: Record<string, number> = {};
      let text = s;
      for (const [name, pattern, replacement] of PATTERNS) {
        const found = text.match(pattern);
        if (found) {
          hits[name] = found.length;
          text = text.replace(pattern, replacement);
        }
      }
      return { text, hits };
    },
  };
}

// ---- values ----------------------------------------------------------------------------------

export const A_JWT =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJpc3MiOiJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMiLCJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGV2OmRlZmF1bHQifQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU';
export const AN_AWS_KEY = 'AKIAIOSFODNN7EXAMPLE';

/** A deterministic pseudo-random generator (mulberry32), so fixtures are the same every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (r: () => number, n: number): string => {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(r() * 16).toString(16);
  return s;
};
const uid = (r: () => number): string => `${hex(r, 8)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 12)}`;
const b64 = (s: string): string => Buffer.from(s).toString('base64');

// ---- objects -----------------------------------------------------------------------------------

/** A Secret as `GET /api/v1/namespaces/dev/secrets/name` returns it (kind included). */
export function secret(name: string, data: Record<string, string> = { username: b64('admin'), password: b64('s3cr3t-p4ss') }, extra: Record<string, unknown> = {}) {
  return {
    kind: 'Secret',
    apiVersion: 'v1',
    metadata: {
      name,
      namespace: 'dev',
      uid: '3c1f2b9e-8a4d-4f55-9d0e-2b7c0a1e4f11',
      resourceVersion: '4711',
      creationTimestamp: '2026-01-10T12:00:00Z',
      labels: { app: 'web' },
      managedFields: [
        { manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'v1', time: '2026-01-10T12:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': Object.fromEntries(Object.keys(data).map((k) => [`f:${k}`, {}])), 'f:type': {} } },
      ],
    },
    data,
    type: 'Opaque',
    ...extra,
  };
}

/** The last-applied-configuration annotation kubectl apply writes for a Secret (with its data). */
export function lastAppliedSecret(name: string, password: string): string {
  return `${JSON.stringify({ apiVersion: 'v1', data: { password: b64(password) }, kind: 'Secret', metadata: { annotations: {}, name, namespace: 'dev' }, type: 'Opaque' })}\n`;
}

interface EnvVar { name: string; value?: string; valueFrom?: unknown }

function container(r: () => number, name: string, env: EnvVar[]) {
  return {
    name,
    image: `registry.example.com/team/${name}:1.${Math.floor(r() * 40)}.${Math.floor(r() * 9)}`,
    ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
    env,
    resources: { limits: { cpu: '500m', memory: '512Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
    volumeMounts: [
      { name: 'config', mountPath: '/etc/app', readOnly: true },
      { name: 'kube-api-access-x7k2p', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
    ],
    livenessProbe: { httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' }, initialDelaySeconds: 10, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
    readinessProbe: { httpGet: { path: '/ready', port: 8080, scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 5, successThreshold: 1, failureThreshold: 3 },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
  };
}

function envFor(r: () => number, i: number): EnvVar[] {
  const env: EnvVar[] = [
    { name: 'APP_ENV', value: 'production' },
    { name: 'LOG_LEVEL', value: r() < 0.5 ? 'info' : 'debug' },
    { name: 'PORT', value: '8080' },
    { name: 'UPSTREAM_URL', value: `http://svc-${Math.floor(r() * 50)}.dev.svc.cluster.local:8080/api` },
    { name: 'FEATURE_FLAGS', value: 'checkout-v2,search-beta,dark-mode' },
    { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
    { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
  ];
  // One pod in 20 carries a credential inline, as happens in real clusters.
  if (i % 20 === 7) env.push({ name: 'DATABASE_URL', value: `postgres://app:${hex(r, 12)}@db.dev.svc:5432/app` });
  if (i % 20 === 13) env.push({ name: 'AWS_ACCESS_KEY_ID', value: AN_AWS_KEY });
  return env;
}

/** A Pod of a ReplicaSet, as the API server returns it in a PodList (no kind/apiVersion on items). */
export function pod(r: () => number, i: number) {
  const name = `web-${hex(r, 10)}-${hex(r, 5)}`;
  return {
    metadata: {
      name,
      generateName: name.slice(0, -5),
      namespace: 'dev',
      uid: uid(r),
      resourceVersion: String(1000 + i),
      creationTimestamp: '2026-01-10T12:00:00Z',
      labels: { app: 'web', 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/part-of': 'shop', 'pod-template-hash': hex(r, 10), tier: 'frontend' },
      annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090', 'kubectl.kubernetes.io/restartedAt': '2026-01-09T08:00:00Z' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: name.slice(0, -6), uid: uid(r), controller: true, blockOwnerDeletion: true }],
      managedFields: [
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'v1',
          time: '2026-01-10T12:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': { 'f:generateName': {}, 'f:labels': { '.': {}, 'f:app': {}, 'f:pod-template-hash': {} }, 'f:ownerReferences': { '.': {}, [`k:{"uid":"${uid(r)}"}`]: {} } },
            'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:env': { '.': {}, 'k:{"name":"APP_ENV"}': { '.': {}, 'f:name': {}, 'f:value': {} } }, 'f:image': {}, 'f:name': {} } }, 'f:dnsPolicy': {}, 'f:restartPolicy': {} },
          },
        },
        { manager: 'kubelet', operation: 'Update', apiVersion: 'v1', time: '2026-01-10T12:00:05Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:status': { 'f:conditions': {}, 'f:containerStatuses': {}, 'f:hostIP': {}, 'f:phase': {}, 'f:podIP': {}, 'f:startTime': {} } }, subresource: 'status' },
      ],
    },
    spec: {
      volumes: [
        { name: 'config', configMap: { name: 'web-config', defaultMode: 420 } },
        { name: 'kube-api-access-x7k2p', projected: { sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }], defaultMode: 420 } },
      ],
      containers: [container(r, 'app', envFor(r, i)), container(r, 'sidecar', [{ name: 'MODE', value: 'proxy' }])],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      serviceAccount: 'default',
      nodeName: `node-${Math.floor(r() * 10)}`,
      securityContext: {},
      schedulerName: 'default-scheduler',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    status: {
      phase: 'Running',
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-10T12:00:05Z' })),
      hostIP: `10.0.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}`,
      podIP: `10.244.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}`,
      podIPs: [{ ip: '10.244.1.2' }],
      startTime: '2026-01-10T12:00:00Z',
      containerStatuses: ['app', 'sidecar'].map((n) => ({
        name: n,
        state: { running: { startedAt: '2026-01-10T12:00:03Z' } },
        lastState: {},
        ready: true,
        restartCount: 0,
        image: `registry.example.com/team/${n}:1.2.3`,
        imageID: `registry.example.com/team/${n}@sha256:${hex(r, 64)}`,
        containerID: `containerd://${hex(r, 64)}`,
        started: true,
      })),
      qosClass: 'Burstable',
    },
  };
}

/** A Secret as an item of a SecretList (no kind/apiVersion), sometimes with kubectl's last-applied annotation. */
export function secretItem(r: () => number, i: number) {
  const name = `app-secret-${i}`;
  const data: Record<string, string> = {};
  const keys = 2 + Math.floor(r() * 4);
  for (let k = 0; k < keys; k++) data[`key-${k}`] = b64(hex(r, 16 + Math.floor(r() * 48)));
  const { kind: _k, apiVersion: _a, ...s } = secret(name, data);
  if (i % 3 === 0) (s.metadata as Record<string, unknown>).annotations = { 'kubectl.kubernetes.io/last-applied-configuration': lastAppliedSecret(name, hex(r, 20)) };
  return s;
}

/** A `*List` body of `n` items made by `item`, as the API server writes it (one line, newline at the end). */
export function listJson(kind: string, n: number, item: (r: () => number, i: number) => unknown, seed = 1): string {
  const r = rng(seed);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(JSON.stringify(item(r, i)));
  return `{"kind":"${kind}","apiVersion":"v1","metadata":{"resourceVersion":"98765"},"items":[${parts.join(',')}]}\n`;
}

/** Splits `buf` into chunks of `size` bytes. */
export function chunks(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}
