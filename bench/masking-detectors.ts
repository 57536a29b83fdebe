/**
 * Throughput of the value detectors (src/masking/detectors), on one core:
 *   node --import tsx bench/masking-detectors.ts
 *
 * Input: 5 MB of realistic text without secrets — container logs in the usual shapes (klog,
 * JSON logs, logfmt, nginx access logs, Java stack traces, plain sentences) and the pretty JSON
 * of pods as `kubectl get pods -o json` prints it — (a) as is, (b) with a fake secret of one of
 * the detector kinds every 10 KB. Generated from a fixed seed, so every run scans the same text.
 *
 * Measured, each as the median of BENCH_RUNS runs (default 7) after a warm-up:
 *   - mask() per line (how streams call it) and maybe() per line;
 *   - mask() over the whole 5 MB string at once;
 *   - maybe() + mask() per JSON string value of the pods (how the structural pass calls it);
 * with the default detectors, and with e-mail and phone on as well.
 * Environment: BENCH_RUNS, BENCH_MB (input size, default 5).
 */
import { createDetectors, type DetectorSet } from '../src/masking/detectors/index.ts';

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 7));
const TARGET = Math.round(Number(process.env.BENCH_MB ?? 5) * 1e6);

// ---------------------------------------------------------------- input

let seed = 0x5eed;
const rnd = (): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const int = (n: number): number => Math.floor(rnd() * n);
const hex = (n: number): string => Array.from({ length: n }, () => '0123456789abcdef'[int(16)]).join('');
const uuid = (): string => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
const two = (n: number): string => String(n).padStart(2, '0');
const ts = (): string => `2024-05-${two(1 + int(28))}T${two(int(24))}:${two(int(60))}:${two(int(60))}.${String(int(1000)).padStart(3, '0')}Z`;
const ip = (): string => `10.${int(256)}.${int(256)}.${int(256)}`;
const apps = ['web', 'api', 'orders', 'payments', 'auth', 'search', 'cart', 'worker'];
const words = ['request', 'completed', 'connection', 'established', 'retrying', 'timeout', 'cache', 'miss', 'user', 'session', 'started', 'handler', 'upstream', 'response', 'queue', 'message', 'processed', 'batch', 'shutting', 'down', 'gracefully', 'listening', 'on', 'port', 'ready', 'health', 'check', 'passed', 'failed', 'with', 'status', 'key', 'Bearer', 'token', 'refreshed', 'storage', 'secret', 'mounted'];
const sentence = (): string => Array.from({ length: 4 + int(10) }, () => pick(words)).join(' ');

function logLine(): string {
  const app = pick(apps);
  switch (int(7)) {
    case 0:
      return `I0501 ${two(int(24))}:${two(int(60))}:00.${String(int(1e6)).padStart(6, '0')}       1 controller.go:${int(900)}] "Reconciled" ${app}="default/${app}-${hex(5)}" duration="${int(90)}.${int(9)}ms"`;
    case 1:
      return JSON.stringify({ level: pick(['info', 'debug', 'warn']), ts: ts(), logger: app, msg: sentence(), requestId: uuid(), durationMs: int(5000), path: `/api/v1/${app}/${int(100000)}` });
    case 2:
      return `time="${ts()}" level=info msg="${sentence()}" component=${app} trace_id=${hex(32)} span_id=${hex(16)} latency=${int(900)}ms`;
    case 3:
      return `${ip()} - - [01/May/2024:12:${two(int(60))}:00 +0000] "GET /api/v1/${app}?page=${int(50)}&sort=created HTTP/1.1" ${pick([200, 200, 200, 304, 404, 500])} ${int(90000)} "-" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"`;
    case 4:
      return `\tat com.example.${app}.service.${pick(['Order', 'Payment', 'User'])}Service.process(${pick(['Order', 'Payment', 'User'])}Service.java:${int(500)})`;
    case 5:
      return `${ts()} ${pick(['INFO', 'WARN', 'ERROR'])} [${app}-${hex(10)}-${hex(5)}] ${sentence()} (attempt ${int(5)}/5, next in ${int(30)}s)`;
    default:
      return `Successfully pulled image "registry.example.com/team/${app}:1.${int(30)}.${int(9)}" in ${int(9)}.${int(999)}s. Image size: ${int(1e9)} bytes.`;
  }
}

function pod(i: number): object {
  const app = pick(apps);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${app}-${hex(10)}-${hex(5)}`,
      namespace: 'default',
      uid: uuid(),
      resourceVersion: String(100000 + i),
      creationTimestamp: ts(),
      labels: { app, 'app.kubernetes.io/name': app, 'pod-template-hash': hex(10) },
      annotations: { 'kubectl.kubernetes.io/restartedAt': ts() },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${app}-${hex(10)}`, uid: uuid(), controller: true }],
    },
    spec: {
      containers: [
        {
          name: app,
          image: `registry.example.com/team/${app}:1.${int(30)}.${int(9)}`,
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          env: [
            { name: 'LOG_LEVEL', value: 'info' },
            { name: 'DATABASE_HOST', value: `${app}-db.default.svc.cluster.local` },
            { name: 'DATABASE_PASSWORD', valueFrom: { secretKeyRef: { name: `${app}-db`, key: 'password' } } },
          ],
          resources: { limits: { cpu: '500m', memory: '512Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
          volumeMounts: [{ mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', name: `kube-api-access-${hex(5)}`, readOnly: true }],
        },
      ],
      nodeName: `node-${int(20)}`,
      serviceAccountName: app,
    },
    status: {
      phase: 'Running',
      podIP: ip(),
      hostIP: ip(),
      startTime: ts(),
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: ts() }],
      containerStatuses: [
        {
          name: app,
          ready: true,
          restartCount: int(3),
          image: `registry.example.com/team/${app}:1.2.3`,
          imageID: `registry.example.com/team/${app}@sha256:${hex(64)}`,
          containerID: `containerd://${hex(64)}`,
        },
      ],
    },
  };
}

// Fake values only (documented examples or made up), assembled so no scanner takes them for leaks.
const j = (...parts: string[]): string => parts.join('');
const FAKE_SECRETS = [
  'aws_access_key_id = AKIAIOSFODNN7EXAMPLE',
  'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'Authorization: Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6ImZha2UifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDpmYWtlIn0.ZmFrZS1zaWduYXR1cmUtZm9yLXRlc3Rz',
  'DATABASE_URL=postgres://app:not-a-real-password@db.example.com:5432/app',
  j('GITHUB_TOKEN=gh', 'p_', 'FAKEfakeFAKEfakeFAKEfakeFAKEfake0000'),
  'card on file: 4111 1111 1111 1111',
  'DefaultEndpointsProtocol=https;AccountName=fake;AccountKey=RkFLRWZha2VGQUtFZmFrZUZBS0VmYWtlRkFLRWZha2VGQUtFZmFrZUZBS0VmYWtlRkFLRWZha2U=;EndpointSuffix=core.windows.net',
  j('slack: xo', 'xb-', '0000000000-0000000000-FAKEfakeFAKEfakeFAKEfake'),
];

function corpus(withSecrets: boolean): { lines: string[]; text: string; jsonStrings: string[] } {
  seed = 0x5eed;
  const lines: string[] = [];
  const jsonStrings: string[] = [];
  let size = 0;
  let nextSecret = 10_000;
  let k = 0;
  let i = 0;
  while (size < TARGET) {
    if (withSecrets && size >= nextSecret) {
      const s = FAKE_SECRETS[k++ % FAKE_SECRETS.length]!;
      lines.push(`${ts()} INFO config ${s}`);
      jsonStrings.push(s);
      size += s.length + 30;
      nextSecret += 10_000;
      continue;
    }
    if (int(4) === 0) {
      const p = pod(i++);
      const walk = (v: unknown): void => {
        if (typeof v === 'string') jsonStrings.push(v);
        else if (Array.isArray(v)) v.forEach(walk);
        else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
      };
      walk(p);
      for (const l of JSON.stringify(p, null, 4).split('\n')) {
        lines.push(l);
        size += l.length + 1;
      }
    } else {
      const l = logLine();
      lines.push(l);
      size += l.length + 1;
    }
  }
  return { lines, text: lines.join('\n'), jsonStrings };
}

// ---------------------------------------------------------------- measurements

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** MB/s (10^6 UTF-16 code units per second) of `fn` over `chars` characters. */
function rate(chars: number, fn: () => number): { mbps: number; hits: number } {
  let hits = fn(); // warm-up
  fn();
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    hits = fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return { mbps: chars / 1e6 / median(times), hits };
}

function countHits(h: Record<string, number>): number {
  let n = 0;
  for (const k in h) n += h[k]!;
  return n;
}

function scenarios(set: DetectorSet, c: ReturnType<typeof corpus>): Record<string, { mbps: number; hits: number }> {
  const chars = c.text.length;
  const jsonChars = c.jsonStrings.reduce((n, s) => n + s.length, 0);
  return {
    'mask() per line': rate(chars, () => {
      let n = 0;
      for (const l of c.lines) n += countHits(set.mask(l).hits);
      return n;
    }),
    'maybe() per line': rate(chars, () => {
      let n = 0;
      for (const l of c.lines) if (set.maybe(l)) n++;
      return n;
    }),
    'mask() whole 5 MB string': rate(chars, () => countHits(set.mask(c.text).hits)),
    'maybe()+mask() per JSON string': rate(jsonChars, () => {
      let n = 0;
      for (const s of c.jsonStrings) if (set.maybe(s)) n += countHits(set.mask(s).hits);
      return n;
    }),
  };
}

const plain = corpus(false);
const secrets = corpus(true);
const avg = (xs: string[]): number => xs.reduce((n, s) => n + s.length, 0) / xs.length;
console.log(
  `input: ${(plain.text.length / 1e6).toFixed(2)} M chars, ${plain.lines.length} lines (${avg(plain.lines).toFixed(0)} chars on average), ` +
    `${plain.jsonStrings.length} JSON strings (${avg(plain.jsonStrings).toFixed(0)} chars); with secrets: ${secrets.lines.length - plain.lines.length} more lines; ` +
    `node ${process.version}; median of ${RUNS}`,
);
const sets: [string, DetectorSet][] = [
  ['defaults', createDetectors()],
  ['defaults + email + phone', createDetectors({ pii: { email: true, phone: true } })],
];
for (const [label, set] of sets) {
  for (const [inputLabel, c] of [
    ['(a) no secrets', plain],
    ['(b) a secret every 10 KB', secrets],
  ] as const) {
    const r = scenarios(set, c);
    console.log(`\n${label}, ${inputLabel}:`);
    for (const [k, v] of Object.entries(r)) console.log(`  ${k.padEnd(34)} ${v.mbps.toFixed(0).padStart(6)} MB/s   (${v.hits} hits)`);
  }
}
