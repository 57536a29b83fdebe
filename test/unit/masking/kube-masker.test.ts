// The structure-aware Kubernetes masker (src/masking/kube, issue #5 items 1, 3 and 5): Secrets
// single and in lists, Tables (full objects and PartialObjectMetadata), watch streams cut at
// every byte, TokenRequest, env values, last-applied-configuration, operator rules for a CRD,
// hash mode, refusal of what cannot be parsed or is too large, bounded memory over a 50 MB list,
// and the counts. Detectors are the stand-in of kube-fixtures.ts (same interface as
// src/masking/detectors), so these tests hold whatever the real detectors match.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  createKubeJsonMasker,
  createKubeMasking,
  DEFAULT_SENSITIVE_ENV_NAMES,
  defaultMaskRules,
  KubeMaskError,
  LAST_APPLIED_ANNOTATION,
  MASK_MARKER,
  maskObject,
  parseRulePath,
  type KubeMasking,
  type MaskCounts,
  type MaskRule,
} from '../../../src/masking/kube/index.ts';
import { A_JWT, AN_AWS_KEY, chunks, lastAppliedSecret, listJson, pod, rng, secret, secretItem, standInDetectors } from './kube-fixtures.ts';

const detectors = standInDetectors();
const masking = createKubeMasking({ detectors });
const b64 = (s: string): string => Buffer.from(s).toString('base64');

interface Run {
  text: string;
  counts: MaskCounts;
  pushes: number;
}

/** Streams `input` through a new masker in chunks of `chunk` bytes (or at the given cut points). */
function run(input: string | Buffer, opts: { chunk?: number; cuts?: number[]; masking?: KubeMasking; maxElementBytes?: number; fastPath?: boolean } = {}): Promise<Run> {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input);
  const m = createKubeJsonMasker({ masking: opts.masking ?? masking, maxElementBytes: opts.maxElementBytes, fastPath: opts.fastPath });
  const out: Buffer[] = [];
  m.on('data', (b: Buffer) => out.push(b));
  const done = new Promise<Run>((resolve, reject) => {
    m.on('end', () => resolve({ text: Buffer.concat(out).toString(), counts: m.counts(), pushes: out.length }));
    m.on('error', reject);
  });
  let parts: Buffer[];
  if (opts.cuts) {
    parts = [];
    let at = 0;
    for (const c of [...opts.cuts, buf.length]) {
      parts.push(buf.subarray(at, c));
      at = c;
    }
  } else parts = chunks(buf, opts.chunk ?? 64 * 1024);
  for (const p of parts) m.write(p);
  m.end();
  return done;
}

/** The error a masker fails with, and the bytes it let out before. */
async function failure(input: string | Buffer, opts: { chunk?: number; maxElementBytes?: number } = {}): Promise<{ error: KubeMaskError; out: string }> {
  const m = createKubeJsonMasker({ masking, maxElementBytes: opts.maxElementBytes });
  const out: Buffer[] = [];
  m.on('data', (b: Buffer) => out.push(b));
  const error = await new Promise<unknown>((resolve) => {
    m.on('error', resolve);
    m.on('end', () => resolve(undefined));
    for (const p of chunks(Buffer.isBuffer(input) ? input : Buffer.from(input), opts.chunk ?? 64 * 1024)) {
      if (m.destroyed) break;
      m.write(p);
    }
    if (!m.destroyed) m.end();
  });
  assert.ok(error instanceof KubeMaskError, `expected a KubeMaskError, got ${String(error)}`);
  return { error, out: Buffer.concat(out).toString() };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const get = (o: unknown, ...path: (string | number)[]): unknown => path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], o);

// ---- single objects ----------------------------------------------------------------------------

describe('Secrets', () => {
  test('GET one Secret: data and stringData values masked, keys, type and metadata intact', async () => {
    const s = secret('db', { username: b64('admin'), password: b64('hunter2') }, { stringData: { token: 'plain-text-token' } });
    const r = await run(`${JSON.stringify(s)}\n`);
    const out = JSON.parse(r.text) as typeof s & { stringData: Record<string, string> };
    assert.deepEqual(out.data, { username: MASK_MARKER, password: MASK_MARKER });
    assert.deepEqual(out.stringData, { token: MASK_MARKER });
    assert.equal(out.type, 'Opaque');
    assert.deepEqual(out.metadata, s.metadata);
    assert.deepEqual(Object.keys(out), Object.keys(s));
    assert.ok(r.text.endsWith('\n'), 'the trailing newline of the API server is kept');
    assert.ok(!r.text.includes(b64('hunter2')) && !r.text.includes('plain-text-token'));
    assert.deepEqual(r.counts, { fields: { 'Secret data': 2, 'Secret stringData': 1 }, detectors: {} });
  });

  test('the marker is valid base64, so typed clients still decode data', () => {
    assert.equal(Buffer.from(MASK_MARKER, 'base64').toString('base64'), MASK_MARKER);
  });

  test('SecretList of 3 typed items (no kind on items): every value masked, keys kept, envelope intact', async () => {
    const r0 = rng(3);
    const items = [0, 1, 2].map((i) => secretItem(r0, i + 1));
    const body = JSON.stringify({ kind: 'SecretList', apiVersion: 'v1', metadata: { resourceVersion: '77', continue: 'abc' }, items });
    for (const chunk of [7, 64 * 1024]) {
      const r = await run(body, { chunk });
      const out = JSON.parse(r.text) as { kind: string; metadata: unknown; items: { data: Record<string, string>; metadata: { name: string } }[] };
      assert.equal(out.kind, 'SecretList');
      assert.deepEqual(out.metadata, { resourceVersion: '77', continue: 'abc' });
      assert.equal(out.items.length, 3);
      out.items.forEach((it, i) => {
        assert.deepEqual(Object.keys(it.data), Object.keys(items[i]!.data));
        assert.ok(Object.values(it.data).every((v) => v === MASK_MARKER));
        assert.equal(it.metadata.name, items[i]!.metadata.name);
      });
      for (const it of items) for (const v of Object.values(it.data)) assert.ok(!r.text.includes(v));
      // plus the password inside the last-applied annotation of item 3 (every third one has it)
      assert.equal(r.counts.fields['Secret data'], items.reduce((n, it) => n + Object.keys(it.data).length, 0) + 1);
      assert.equal(r.counts.fields['last-applied-configuration'], 1);
    }
  });

  test('create/update/patch/dry-run answers are plain objects: masked the same way', async () => {
    const created = secret('new', { key: b64('value-1') }, { metadata: { name: 'new', namespace: 'dev', annotations: {} } });
    const r = await run(JSON.stringify(created));
    assert.equal(get(JSON.parse(r.text), 'data', 'key'), MASK_MARKER);
  });

  test('a key written with escapes is the same key', async () => {
    const body = '{"kind":"Secret","apiVersion":"v1","metadata":{"name":"x"},"\\u0064ata":{"p\\u0061ss":"c2VjcmV0"}}';
    const r = await run(body);
    assert.deepEqual(JSON.parse(r.text), { kind: 'Secret', apiVersion: 'v1', metadata: { name: 'x' }, data: { pass: MASK_MARKER } });
  });

  test('a Secret of another API group is not a core Secret', async () => {
    const body = JSON.stringify({ kind: 'Secret', apiVersion: 'example.com/v1', data: { a: 'b' } });
    assert.equal(get(JSON.parse((await run(body)).text), 'data', 'a'), 'b');
  });
});

describe('last-applied-configuration', () => {
  test('a Secret applied with kubectl: the annotation is masked as the Secret it contains', async () => {
    const s = secret('applied', { password: b64('pw-in-clear') });
    (s.metadata as Record<string, unknown>).annotations = { [LAST_APPLIED_ANNOTATION]: lastAppliedSecret('applied', 'pw-in-clear') };
    const r = await run(JSON.stringify(s));
    const annotation = get(JSON.parse(r.text), 'metadata', 'annotations', LAST_APPLIED_ANNOTATION) as string;
    assert.ok(annotation.endsWith('\n'), "kubectl's trailing newline is kept");
    const inner = JSON.parse(annotation) as { kind: string; data: Record<string, string>; metadata: { name: string } };
    assert.equal(inner.kind, 'Secret');
    assert.deepEqual(inner.data, { password: MASK_MARKER });
    assert.equal(inner.metadata.name, 'applied');
    assert.ok(!r.text.includes(b64('pw-in-clear')));
    assert.deepEqual(r.counts.fields, { 'Secret data': 2, 'last-applied-configuration': 1 });
  });

  test('on any kind (a ConfigMap carrying a token), and a duplicate key cannot smuggle a value past the mask', async () => {
    const inner = `{"kind":"Secret","apiVersion":"v1","data":{"k":"c2hhZG93ZWQ="},"data":{}}`;
    const cm = { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'c', annotations: { [LAST_APPLIED_ANNOTATION]: inner } }, data: { a: 'b' } };
    const r = await run(JSON.stringify(cm));
    assert.ok(!r.text.includes('c2hhZG93ZWQ='));
    assert.deepEqual(JSON.parse(get(JSON.parse(r.text), 'metadata', 'annotations', LAST_APPLIED_ANNOTATION) as string), { kind: 'Secret', apiVersion: 'v1', data: {} });
  });

  test('an annotation that does not parse is replaced by the marker', async () => {
    const cm = { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'c', annotations: { [LAST_APPLIED_ANNOTATION]: '{"kind":"Secret","data":{"p":"cw==' } } };
    const r = await run(JSON.stringify(cm));
    assert.equal(get(JSON.parse(r.text), 'metadata', 'annotations', LAST_APPLIED_ANNOTATION), MASK_MARKER);
    assert.deepEqual(r.counts.fields, { 'last-applied-configuration': 1 });
  });
});

describe('TokenRequest, env values, operator rules', () => {
  test('TokenRequest status.token is masked, the rest kept', async () => {
    const tr = {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name: 'default', namespace: 'dev', creationTimestamp: null },
      spec: { audiences: ['https://kubernetes.default.svc'], expirationSeconds: 3600, boundObjectRef: null },
      status: { token: A_JWT, expirationTimestamp: '2026-01-10T13:00:00Z' },
    };
    const r = await run(JSON.stringify(tr));
    const out = JSON.parse(r.text) as typeof tr;
    assert.equal(out.status.token, MASK_MARKER);
    assert.equal(out.status.expirationTimestamp, '2026-01-10T13:00:00Z');
    assert.deepEqual(out.spec, tr.spec);
    assert.deepEqual(r.counts, { fields: { 'TokenRequest token': 1 }, detectors: {} });
  });

  test('a Pod: the env value holding a JWT is masked by the detectors, a harmless one kept', async () => {
    const p = {
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'app', image: 'nginx', env: [{ name: 'CLUSTER_CONFIG', value: A_JWT }, { name: 'MODE', value: 'production' }] }] },
    };
    const r = await run(JSON.stringify(p));
    const env = get(JSON.parse(r.text), 'spec', 'containers', 0, 'env') as { name: string; value: string }[];
    assert.equal(env[0]!.value, '[masked:jwt]');
    assert.equal(env[1]!.value, 'production');
    assert.deepEqual(r.counts, { fields: { 'env value': 1 }, detectors: { jwt: 1 } });
  });

  test('a Deployment with an AWS key in an env value (whose name says nothing)', async () => {
    const d = {
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      metadata: { name: 'web' },
      spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'UPLOADER_ARGS', value: `--key=${AN_AWS_KEY}` }] }], initContainers: [{ name: 'init', env: [{ name: 'X', value: 'y' }] }] } } },
    };
    const r = await run(JSON.stringify(d));
    assert.ok(!r.text.includes(AN_AWS_KEY));
    assert.equal(get(JSON.parse(r.text), 'spec', 'template', 'spec', 'initContainers', 0, 'env', 0, 'value'), 'y');
    assert.deepEqual(r.counts, { fields: { 'env value': 1 }, detectors: { 'aws-access-key-id': 1 } });
  });

  test('every other string goes through the detectors too (a ConfigMap, a Status message), labelled by path', async () => {
    const cm = { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'c' }, data: { DB: 'postgres://app:s3cret@db:5432/app', plain: 'x' } };
    const r = await run(JSON.stringify(cm));
    assert.equal(get(JSON.parse(r.text), 'data', 'DB'), 'postgres://app:[masked]@db:5432/app');
    assert.deepEqual(r.counts, { fields: { 'ConfigMap data.DB': 1 }, detectors: { 'url-credentials': 1 } });
    const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `token ${A_JWT} is invalid`, code: 401 };
    assert.equal(get(JSON.parse((await run(JSON.stringify(status))).text), 'message'), 'token [masked:jwt] is invalid');
  });

  test("an operator's rule for a CRD (kind MyApp, group example.com, spec.password)", async () => {
    const rules: MaskRule[] = [...defaultMaskRules(), { kind: 'MyApp', apiGroup: 'example.com', paths: ['spec.password'], action: 'marker' }];
    const m = createKubeMasking({ detectors, rules });
    const app = (group: string, name: string) => ({ apiVersion: `${group}/v1`, kind: 'MyApp', metadata: { name }, spec: { password: 'p4ss', replicas: 2 } });
    const one = await run(JSON.stringify(app('example.com', 'a')), { masking: m });
    assert.deepEqual(get(JSON.parse(one.text), 'spec'), { password: MASK_MARKER, replicas: 2 });
    assert.deepEqual(one.counts.fields, { 'MyApp spec.password': 1 });
    // Another group's MyApp is someone else's kind.
    assert.equal(get(JSON.parse((await run(JSON.stringify(app('other.io', 'b')), { masking: m })).text), 'spec', 'password'), 'p4ss');
    // An unstructured list writes its keys sorted: items come before kind; the items carry their own kind.
    const list = `{"apiVersion":"example.com/v1","items":[${JSON.stringify(app('example.com', 'c'))},${JSON.stringify(app('example.com', 'd'))}],"kind":"MyAppList","metadata":{"resourceVersion":"5"}}`;
    const r = await run(list, { masking: m, chunk: 16 });
    const out = JSON.parse(r.text) as { kind: string; items: { spec: { password: string } }[]; metadata: unknown };
    assert.deepEqual(out.items.map((i) => i.spec.password), [MASK_MARKER, MASK_MARKER]);
    assert.equal(out.kind, 'MyAppList');
    assert.deepEqual(out.metadata, { resourceVersion: '5' });
  });

  test('hash mode: equal values give equal hashes, other values and other keys other hashes', async () => {
    const hashing = (key: string) => createKubeMasking({ detectors, rules: defaultMaskRules({ secretValues: 'hash' }), hashKey: key });
    const s = secret('h', { a: b64('same'), b: b64('same'), c: b64('other') });
    const out1 = get(JSON.parse((await run(JSON.stringify(s), { masking: hashing('key-1') })).text), 'data') as Record<string, string>;
    const out2 = get(JSON.parse((await run(JSON.stringify(s), { masking: hashing('key-2') })).text), 'data') as Record<string, string>;
    assert.match(out1.a!, /^hmac[0-9a-f]{20}$/);
    assert.equal(out1.a, out1.b);
    assert.notEqual(out1.a, out1.c);
    assert.notEqual(out1.a, out2.a);
    assert.throws(() => createKubeMasking({ detectors, rules: defaultMaskRules({ secretValues: 'hash' }) }), (e: unknown) => e instanceof KubeMaskError && e.code === 'MASK_RULE_INVALID');
  });
});

// ---- env values masked by their name ---------------------------------------------------------

describe('env values masked by their name (sensitive-env-names.ts)', () => {
  const SECRET_KEY_40 = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'; // 40 base64 characters: no detector knows it
  const LABEL = 'env value (sensitive name)';
  /** Credentials under telling names (masked) and everything that must stay. */
  const env = (): { name: string; value?: string; valueFrom?: unknown }[] => [
    { name: 'POSTGRES_PASSWORD', value: 'fake-password' },
    { name: 'AWS_SECRET_ACCESS_KEY', value: SECRET_KEY_40 },
    { name: 'DB_TOKEN', value: 'tok-12345' },
    { name: 'APP_ENV', value: 'production' },
    { name: 'PASSWORD_FILE', value: '/run/secrets/pw' },
    { name: 'TOKEN_PATH', value: '/var/run/token' },
    { name: 'AUTHOR', value: 'jane' },
    { name: 'API_KEY', value: '' },
    { name: 'REDIS_PASSWORD', value: '$(DB_PASSWORD)' },
    { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
  ];
  const SECRETS = ['fake-password', SECRET_KEY_40, 'tok-12345'];
  const expectedEnv = () => env().map((e, i) => (i < 3 ? { ...e, value: MASK_MARKER } : e));
  const podSpec = () => ({ containers: [{ name: 'app', image: 'app:1', env: env() }], initContainers: [{ name: 'init', image: 'init:1', env: [{ name: 'INIT_SECRET', value: 's3cr3t' }] }] });

  /** Streams `body` fast (whole, in small chunks) and fully parsed; both must give `maskObject`'s answer. */
  async function both(body: string, opts: { masking?: KubeMasking; chunks?: number[] } = {}): Promise<Run> {
    const m = opts.masking ?? masking;
    const lines = (t: string): unknown[] => t.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);
    const expected = lines(body).map((o) => maskObject(o, m));
    const fast = await run(body, { masking: m });
    for (const chunk of opts.chunks ?? [1, 7, 100]) {
      const r = await run(body, { masking: m, chunk });
      assert.equal(r.text, fast.text, `chunk ${chunk}`);
      assert.deepEqual(r.counts, fast.counts);
    }
    const full = await run(body, { masking: m, fastPath: false });
    assert.deepEqual(lines(fast.text), expected.map((e) => e.obj));
    assert.deepEqual(lines(full.text), expected.map((e) => e.obj));
    assert.deepEqual(full.counts, fast.counts);
    return fast;
  }

  test('a Pod: POSTGRES_PASSWORD, AWS_SECRET_ACCESS_KEY and DB_TOKEN masked; APP_ENV, PASSWORD_FILE, TOKEN_PATH, AUTHOR, empty and $(VAR) kept', async () => {
    const p = { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'p' }, spec: podSpec() };
    const body = JSON.stringify(p).replaceAll('","', '", "'); // spaces that only the scan keeps
    const r = await both(body);
    const out = JSON.parse(r.text) as typeof p;
    assert.deepEqual(out.spec.containers[0]!.env, expectedEnv());
    assert.deepEqual(out.spec.initContainers[0]!.env, [{ name: 'INIT_SECRET', value: MASK_MARKER }]);
    for (const v of [...SECRETS, 's3cr3t']) assert.ok(!r.text.includes(v), v);
    assert.deepEqual(r.counts, { fields: { [LABEL]: 4 }, detectors: {} });
    // Done in the scan: the rest of the Pod goes out as its own bytes.
    let expected = body;
    for (const v of [...SECRETS, 's3cr3t']) expected = expected.replace(JSON.stringify(v), JSON.stringify(MASK_MARKER));
    assert.equal(r.text, expected);
  });

  test('a Deployment (the pod template), and every kind the default rules list', async () => {
    const d = { kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name: 'web' }, spec: { replicas: 2, template: { metadata: { labels: { app: 'web' } }, spec: podSpec() } } };
    const r = await both(JSON.stringify(d));
    assert.deepEqual(get(JSON.parse(r.text), 'spec', 'template', 'spec', 'containers', 0, 'env'), expectedEnv());
    assert.deepEqual(r.counts, { fields: { [LABEL]: 4 }, detectors: {} });
    const kinds: [kind: string, apiVersion: string, wrap: (spec: unknown) => unknown, path: string[]][] = [
      ['Pod', 'v1', (spec) => ({ spec }), ['spec']],
      ['PodTemplate', 'v1', (spec) => ({ template: { spec } }), ['template', 'spec']],
      ['ReplicationController', 'v1', (spec) => ({ spec: { template: { spec } } }), ['spec', 'template', 'spec']],
      ['Deployment', 'apps/v1', (spec) => ({ spec: { template: { spec } } }), ['spec', 'template', 'spec']],
      ['StatefulSet', 'apps/v1', (spec) => ({ spec: { template: { spec } } }), ['spec', 'template', 'spec']],
      ['DaemonSet', 'apps/v1', (spec) => ({ spec: { template: { spec } } }), ['spec', 'template', 'spec']],
      ['ReplicaSet', 'apps/v1', (spec) => ({ spec: { template: { spec } } }), ['spec', 'template', 'spec']],
      ['Job', 'batch/v1', (spec) => ({ spec: { template: { spec } } }), ['spec', 'template', 'spec']],
      ['CronJob', 'batch/v1', (spec) => ({ spec: { jobTemplate: { spec: { template: { spec } } } } }), ['spec', 'jobTemplate', 'spec', 'template', 'spec']],
    ];
    for (const [kind, apiVersion, wrap, path] of kinds) {
      const spec = { containers: [{ name: 'a', env: env() }], ephemeralContainers: [{ name: 'debug', env: [{ name: 'GITHUB_TOKEN', value: 'ghp-fake' }] }] };
      const k = await both(JSON.stringify({ kind, apiVersion, metadata: { name: 'x' }, ...(wrap(spec) as object) }), { chunks: [] });
      assert.deepEqual(get(JSON.parse(k.text), ...path, 'containers', 0, 'env'), expectedEnv(), kind);
      assert.equal(get(JSON.parse(k.text), ...path, 'ephemeralContainers', 0, 'env', 0, 'value'), MASK_MARKER, kind);
      assert.deepEqual(k.counts, { fields: { [LABEL]: 4 }, detectors: {} }, kind);
    }
    // A ConfigMap is no pod: a `value` under `env` there is just a string.
    const cm = { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'c' }, data: { x: 'y' }, spec: { containers: [{ env: [{ name: 'DB_PASSWORD', value: 'kept' }] }] } };
    assert.ok((await both(JSON.stringify(cm))).text.includes('"kept"'));
  });

  test('PodList items (typed: no kind on the items), cut anywhere', async () => {
    const r0 = rng(5);
    const pods = [pod(r0, 1), pod(r0, 2)];
    pods[1]!.spec.containers[0]!.env.push({ name: 'POSTGRES_PASSWORD', value: 'fake-password' }, { name: 'DB_TOKEN', value: 'tok-12345' });
    const body = listJson('PodList', 2, (_r, i) => pods[i]);
    const r = await both(body, { chunks: [1, 13, 4096] });
    const items = (JSON.parse(r.text) as { items: typeof pods }).items;
    assert.deepEqual(items[0], pods[0], 'a pod with nothing to mask is unchanged');
    const outEnv = items[1]!.spec.containers[0]!.env;
    assert.deepEqual(outEnv.slice(-2).map((e) => e.value), [MASK_MARKER, MASK_MARKER]);
    assert.deepEqual(outEnv.find((e) => e.name === 'DB_PASSWORD'), { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } });
    assert.ok(!r.text.includes('fake-password') && !r.text.includes('tok-12345'));
    assert.deepEqual(r.counts, { fields: { [LABEL]: 2 }, detectors: {} });
  });

  test('a watch event and a Table row carrying a Pod', async () => {
    const p = { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'p' }, spec: podSpec() };
    const r = await both(`${JSON.stringify({ type: 'ADDED', object: p })}\n${JSON.stringify({ type: 'MODIFIED', object: p })}\n`);
    for (const line of r.text.trim().split('\n')) assert.deepEqual(get(JSON.parse(line), 'object', 'spec', 'containers', 0, 'env'), expectedEnv());
    assert.deepEqual(r.counts, { fields: { [LABEL]: 8 }, detectors: {} });
    const table = { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {}, columnDefinitions: [], rows: [{ cells: ['p'], object: p }] };
    const t = await both(JSON.stringify(table));
    assert.deepEqual(get(JSON.parse(t.text), 'rows', 0, 'object', 'spec', 'containers', 0, 'env'), expectedEnv());
  });

  test('in a last-applied-configuration annotation (kubectl apply of a Deployment)', async () => {
    const applied = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { annotations: {}, name: 'web', namespace: 'dev' }, spec: { template: { spec: { containers: [{ env: env(), image: 'app:1', name: 'app' }] } } } };
    const d = { kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name: 'web', annotations: { [LAST_APPLIED_ANNOTATION]: `${JSON.stringify(applied)}\n` } }, spec: { template: { spec: { containers: [{ name: 'app', env: env() }] } } } };
    const r = await both(JSON.stringify(d));
    const inner = JSON.parse(get(JSON.parse(r.text), 'metadata', 'annotations', LAST_APPLIED_ANNOTATION) as string) as typeof applied;
    assert.deepEqual(inner.spec.template.spec.containers[0]!.env, expectedEnv());
    assert.deepEqual(get(JSON.parse(r.text), 'spec', 'template', 'spec', 'containers', 0, 'env'), expectedEnv());
    for (const v of SECRETS) assert.ok(!r.text.includes(v), v);
    assert.deepEqual(r.counts, { fields: { [LABEL]: 6, 'last-applied-configuration': 1 }, detectors: {} });
  });

  test('value before name, duplicate names and values, odd values: the same as JSON.parse + maskObject', async () => {
    const pods = (entries: string): string => `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","env":[${entries}]}]}}`;
    const cases: [entries: string, values: unknown[], fields: Record<string, number>][] = [
      ['{"value":"fake-password","name":"POSTGRES_PASSWORD"},{"value":"production","name":"APP_ENV"}', [MASK_MARKER, 'production'], { [LABEL]: 1 }],
      ['{"value":"x1","name":"APP_ENV","name":"DB_TOKEN"}', [MASK_MARKER], { [LABEL]: 1 }],
      ['{"name":"DB_TOKEN","value":"x2","name":"APP_ENV"}', ['x2'], {}],
      ['{"name":"DB_TOKEN","name":"APP_ENV","value":"x3"}', ['x3'], {}],
      ['{"name":"DB_TOKEN","value":"x4","value":"x5"}', [MASK_MARKER], { [LABEL]: 1 }],
      ['{"name":"DB_TOKEN","value":42},{"name":"DB_TOKEN","value":null},{"name":"DB_TOKEN","value":{"a":"b"}},{"name":"DB_TOKEN","value":["c"]}', [MASK_MARKER, null, MASK_MARKER, MASK_MARKER], { [LABEL]: 3 }],
      ['{"name":42,"value":"x6"},{"name":null,"value":"x7"},{"name":{"DB_TOKEN":1},"value":"x8"},{"value":"x9"},{"name":["DB_TOKEN"],"value":"x12"}', ['x6', 'x7', 'x8', 'x9', 'x12'], {}],
      ['{"name":"DB_\\u0054OKEN","value":"x\\u0031"},{"name":"DB_TOKEN","value":"$(A)$(B_C)"},{"name":"DB_TOKEN","value":"$(A) and text"}', [MASK_MARKER, '$(A)$(B_C)', MASK_MARKER], { [LABEL]: 2 }],
      ['{ "name" : "DB_TOKEN" , "value" : "x10" , "extra" : { "name" : "APP_ENV" , "value" : "x11" } }', [MASK_MARKER], { [LABEL]: 1 }],
      [`{"name":"APP_ENV","value":"${A_JWT}"},{"value":"${A_JWT}","name":"DB_TOKEN"}`, ['[masked:jwt]', MASK_MARKER], { 'env value': 1, [LABEL]: 1 }],
    ];
    for (const [entries, values, fields] of cases) {
      const r = await both(pods(entries));
      const outEnv = get(JSON.parse(r.text), 'spec', 'containers', 0, 'env') as { value?: unknown }[];
      assert.deepEqual(outEnv.map((e) => e.value), values, entries);
      assert.deepEqual(r.counts.fields, fields, entries);
    }
  });

  test('the option: false turns it off (the detectors still run), a RegExp of the caller replaces the default', async () => {
    const p = { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', env: [...env(), { name: 'MY_SETTING', value: 'v' }, { name: 'JWT_IN_CLEAR', value: A_JWT }] }] } };
    const off = await both(JSON.stringify(p), { masking: createKubeMasking({ detectors, sensitiveEnvNames: false }) });
    const offEnv = get(JSON.parse(off.text), 'spec', 'containers', 0, 'env') as { value?: string }[];
    assert.deepEqual(offEnv.slice(0, 3).map((e) => e.value), ['fake-password', SECRET_KEY_40, 'tok-12345']);
    assert.equal(offEnv[11]!.value, '[masked:jwt]');
    assert.deepEqual(off.counts, { fields: { 'env value': 1 }, detectors: { jwt: 1 } });
    const mine = await both(JSON.stringify(p), { masking: createKubeMasking({ detectors, sensitiveEnvNames: /^my_/gi }) });
    const mineEnv = get(JSON.parse(mine.text), 'spec', 'containers', 0, 'env') as { value?: string }[];
    assert.deepEqual(mineEnv.map((e) => e.value), [...env().map((e) => e.value), MASK_MARKER, '[masked:jwt]']);
    assert.deepEqual(mine.counts, { fields: { [LABEL]: 1, 'env value': 1 }, detectors: { jwt: 1 } });
    assert.throws(() => createKubeMasking({ detectors, sensitiveEnvNames: 'PASSWORD' as unknown as RegExp }), (e: unknown) => e instanceof KubeMaskError && e.code === 'MASK_RULE_INVALID');
  });

  test("an operator's env rule for a CRD gets it too, under its own label; a marker rule on env values stays a marker", async () => {
    const rules: MaskRule[] = [
      ...defaultMaskRules(),
      { kind: 'Rollout', apiGroup: 'argoproj.io', paths: ['spec.template.spec.containers[*].env[*].value'], action: 'detectors', name: 'Rollout env' },
      { kind: 'Job', apiGroup: 'batch', paths: ['spec.template.spec.containers[*].env[*].value'], action: 'marker', name: 'Job env' },
    ];
    const m = createKubeMasking({ detectors, rules });
    const ro = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', metadata: { name: 'r' }, spec: { template: { spec: { containers: [{ name: 'c', env: env() }] } } } };
    const r = await both(JSON.stringify(ro), { masking: m });
    assert.deepEqual(get(JSON.parse(r.text), 'spec', 'template', 'spec', 'containers', 0, 'env'), expectedEnv());
    assert.deepEqual(r.counts, { fields: { 'Rollout env (sensitive name)': 3 }, detectors: {} });
    const job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { template: { spec: { containers: [{ name: 'c', env: [{ name: 'APP_ENV', value: 'x' }, { name: 'DB_TOKEN', value: 'y' }] }] } } } };
    const j = await both(JSON.stringify(job), { masking: m });
    assert.deepEqual(j.counts, { fields: { 'Job env': 2 }, detectors: {} });
    // An env entry inside an env entry (a rule of each): the scan leaves it to the full parse.
    const nested = createKubeMasking({ detectors, rules: [{ kind: 'Nest', paths: ['spec.env[*].value', 'spec.env[*].inner.env[*].value'], action: 'detectors', name: 'Nest env' }] });
    const body = '{"kind":"Nest","apiVersion":"x.io/v1","spec":{"env":[{"name":"DB_TOKEN","inner":{"env":[{"name":"APP_ENV","value":"a"},{"name":"API_KEY","value":"b"}]},"value":"c"}]}}';
    const n = await both(body, { masking: nested });
    assert.deepEqual(JSON.parse(n.text), { kind: 'Nest', apiVersion: 'x.io/v1', spec: { env: [{ name: 'DB_TOKEN', inner: { env: [{ name: 'APP_ENV', value: 'a' }, { name: 'API_KEY', value: MASK_MARKER }] }, value: MASK_MARKER }] } });
    assert.deepEqual(n.counts, { fields: { 'Nest env (sensitive name)': 2 }, detectors: {} });
  });

  test('the default pattern', () => {
    const yes = [
      'POSTGRES_PASSWORD', 'AWS_SECRET_ACCESS_KEY', 'DB_TOKEN', 'MYSQL_ROOT_PASSWORD', 'PASSWD', 'GPG_PASSPHRASE', 'SECRET', 'CLIENT_SECRET', 'SECRET_KEY_BASE',
      'GITHUB_TOKEN', 'AUTH_TOKEN', 'BASIC_AUTH', 'AUTH', 'HTTP_AUTHORIZATION', 'STRIPE_API_KEY', 'APIKEY', 'apiKey', 'dbPassword', 'AWS_ACCESS_KEY_ID', 'JWT_PRIVATE_KEY',
      'GOOGLE_APPLICATION_CREDENTIALS', 'REGISTRY_CREDS', 'SENTRY_DSN', 'DSN', 'AZURE_STORAGE_CONNECTION_STRING', 'ConnectionStrings__Default', 'DB_CONN_STR', 'SMTP_PASS',
      'DB_PWD', 'auth-token', 'app.secret', 'ENCRYPTION_KEY', 'SIGNING_KEY', 'X\nPASSWORD',
    ];
    const no = [
      'APP_ENV', 'PASSWORD_FILE', 'TOKEN_PATH', 'AUTHOR', 'AUTHORS', 'PWD', 'OLDPWD', 'TOKEN_TTL', 'AUTH_ENABLED', 'PASSWORD_MIN_LENGTH', 'TOKEN_EXPIRY', 'TOKENIZER_MODEL',
      'PASS_THROUGH', 'BYPASS', 'SECRET_NAME', 'SECRETS_DIR', 'DATABASE_URL', 'AUTH_URL', 'PRIVATE_KEY_PATH', 'OAUTH_ISSUER', 'LOG_LEVEL', 'PORT', 'KEY', 'CACHE_KEY', 'POD_NAME',
    ];
    for (const n of yes) assert.ok(DEFAULT_SENSITIVE_ENV_NAMES.test(n), n);
    for (const n of no) assert.ok(!DEFAULT_SENSITIVE_ENV_NAMES.test(n), n);
    const t = performance.now();
    DEFAULT_SENSITIVE_ENV_NAMES.test(`${'A_'.repeat(100_000)}PASSWORD_FILE`);
    assert.ok(performance.now() - t < 200, 'a hostile name costs linear time');
  });
});

// ---- Tables ------------------------------------------------------------------------------------

describe('Tables', () => {
  const columns = [
    { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique.', priority: 0 },
    { name: 'Type', type: 'string', format: '', description: 'Type of the secret', priority: 0 },
  ];

  test('includeObject=Object: rows[].object is masked as the Secret it is', async () => {
    const rows = ['a', 'b'].map((n) => ({ cells: [n, 'Opaque', 1, '5m'], object: secret(n, { password: b64(`pw-${n}`) }) }));
    const table = { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: '9' }, columnDefinitions: columns, rows };
    const r = await run(JSON.stringify(table), { chunk: 100 });
    const out = JSON.parse(r.text) as typeof table;
    assert.deepEqual(out.columnDefinitions, columns);
    assert.deepEqual(out.rows.map((x) => x.cells), rows.map((x) => x.cells));
    assert.deepEqual(out.rows.map((x) => x.object.data), [{ password: MASK_MARKER }, { password: MASK_MARKER }]);
    assert.ok(!r.text.includes(b64('pw-a')));
  });

  test('includeObject=Metadata (the default): the PartialObjectMetadata annotation carrying a Secret is masked', async () => {
    const rows = ['a', 'b'].map((n) => ({
      cells: [n, 'Opaque', 1, '5m'],
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name: n, namespace: 'dev', annotations: { [LAST_APPLIED_ANNOTATION]: lastAppliedSecret(n, `pw-${n}`) } } },
    }));
    const table = { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {}, columnDefinitions: columns, rows };
    const r = await run(JSON.stringify(table), { chunk: 33 });
    const out = JSON.parse(r.text) as typeof table;
    for (const row of out.rows) {
      const inner = JSON.parse(row.object.metadata.annotations[LAST_APPLIED_ANNOTATION]) as { data: Record<string, string> };
      assert.deepEqual(inner.data, { password: MASK_MARKER });
    }
    assert.ok(!r.text.includes(b64('pw-a')) && !r.text.includes(b64('pw-b')));
    assert.deepEqual(r.counts.fields, { 'Secret data': 2, 'last-applied-configuration': 2 });
  });

  test('cells go through the detectors', async () => {
    const table = { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {}, columnDefinitions: columns, rows: [{ cells: ['x', A_JWT], object: null }] };
    const r = await run(JSON.stringify(table));
    assert.equal(get(JSON.parse(r.text), 'rows', 0, 'cells', 1), '[masked:jwt]');
    assert.deepEqual(r.counts.fields, { 'Table rows[*].cells[*]': 1 });
  });
});

// ---- watch ---------------------------------------------------------------------------------

describe('watch streams', () => {
  const events = [
    { type: 'ADDED', object: secret('w1', { password: b64('watch-pw-1') }) },
    { type: 'MODIFIED', object: secret('w1', { password: b64('watch-pw-2'), extra: b64('x') }) },
    { type: 'ADDED', object: { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'p', labels: { 'é': 'ü ☃' } }, spec: { containers: [{ name: 'c', env: [{ name: 'T', value: A_JWT }] }] } } },
    { type: 'BOOKMARK', object: { kind: 'Secret', apiVersion: 'v1', metadata: { resourceVersion: '12345', annotations: { 'k8s.io/initial-events-end': 'true' } } } },
  ];
  const stream = events.map((e) => `${JSON.stringify(e)}\n`).join('');

  const check = (r: Run): void => {
    const lines = r.text.split('\n');
    assert.equal(lines.pop(), '', 'every event ends with its newline');
    const out = lines.map((l) => JSON.parse(l) as { type: string; object: { data?: Record<string, string> } });
    assert.deepEqual(out.map((e) => e.type), ['ADDED', 'MODIFIED', 'ADDED', 'BOOKMARK']);
    assert.deepEqual(out[0]!.object.data, { password: MASK_MARKER });
    assert.deepEqual(out[1]!.object.data, { password: MASK_MARKER, extra: MASK_MARKER });
    assert.equal(get(out[2], 'object', 'spec', 'containers', 0, 'env', 0, 'value'), '[masked:jwt]');
    assert.equal(get(out[2], 'object', 'metadata', 'labels', 'é'), 'ü ☃');
    assert.deepEqual(out[3], events[3]);
    for (const pw of ['watch-pw-1', 'watch-pw-2']) assert.ok(!r.text.includes(b64(pw)));
    assert.ok(!r.text.includes(A_JWT));
    assert.deepEqual(r.counts, { fields: { 'Secret data': 3, 'env value': 1 }, detectors: { jwt: 1 } });
  };

  test('fed one byte at a time', async () => {
    check(await run(stream, { chunk: 1 }));
  });

  test('cut in two at every byte', async () => {
    const buf = Buffer.from(stream);
    const whole = await run(buf);
    check(whole);
    for (let k = 1; k < buf.length; k++) {
      const r = await run(buf, { cuts: [k] });
      assert.equal(r.text, whole.text, `cut at byte ${k}`);
    }
  });

  test('each event goes out as soon as it is complete, not with the next one', async () => {
    const m = createKubeJsonMasker({ masking });
    const seen: string[] = [];
    m.on('data', (b: Buffer) => seen.push(b.toString()));
    const first = `${JSON.stringify(events[0])}\n`;
    await new Promise<void>((resolve) => m.write(first, () => resolve()));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(seen.join(''), `${JSON.stringify({ type: 'ADDED', object: { ...events[0]!.object, data: { password: MASK_MARKER } } })}\n`);
    m.destroy();
  });

  test('an ERROR event (a Status) passes, its message through the detectors', async () => {
    const err = { type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version: 1 (5)', reason: 'Expired', code: 410 } };
    const r = await run(`${JSON.stringify(err)}\n`);
    assert.deepEqual(JSON.parse(r.text), err);
  });
});

// ---- refusal -------------------------------------------------------------------------------

describe('what cannot be masked is refused', () => {
  const cases: [string, string][] = [
    ['truncated', '{"kind":"Secret","apiVersion":"v1","data":{"a":"c2Vj'],
    ['a bad literal', '{"kind":"Pod","x":tru}'],
    ['a missing colon', '{"kind":"Pod" "x"}'],
    ['a raw newline in a string', '{"kind":"Pod","x":"a\nb"}'],
    ['a bad escape', '{"kind":"Pod","x":"a\\qb"}'],
    ['a leading zero', '{"kind":"Pod","x":01}'],
    ['a mismatched bracket', '{"kind":"Pod","x":[1}'],
    ['garbage after a list item', '{"kind":"SecretList","apiVersion":"v1","items":[{"data":{"a":"c2VjcmV0"}} x]}'],
    ['a broken list item', '{"kind":"SecretList","apiVersion":"v1","items":[{"data":{"a":"c2VjcmV0"},]}'],
    ['not JSON at all', 'HTTP/1.1 500 oops'],
    ['JSON but no object', '"c2Vj"'],
    ['a number before the object', '0{"kind":"Secret","data":{"a":"c2Vj"}}'],
  ];
  for (const [name, body] of cases) {
    test(name, async () => {
      for (const chunk of [1, 5, 64 * 1024]) {
        const { error, out } = await failure(body, { chunk });
        assert.equal(error.code, 'MASK_UNPARSEABLE', `${name}, chunk ${chunk}`);
        // A list's envelope and complete items may have gone out (masked); nothing of the broken part.
        if (body.includes('"items"')) assert.ok(!out.includes('c2Vj') && !out.includes(' x'), out);
        else assert.equal(out, '', 'nothing of the broken document went out');
        assert.ok(!error.message.includes('c2Vj'), 'the message does not quote the body');
      }
    });
  }

  test('a list whose items were good before the break: only the complete, masked items went out', async () => {
    const body = '{"kind":"SecretList","apiVersion":"v1","items":[{"data":{"a":"c2VjcmV0"}},{"data":{"b":"c2VjcmV0MiI=" nope';
    const { error, out } = await failure(body, { chunk: 10 });
    assert.equal(error.code, 'MASK_UNPARSEABLE');
    assert.ok(!out.includes('c2VjcmV0'));
    assert.ok(out.startsWith('{"kind":"SecretList","apiVersion":"v1","items":[{"data":{"a":"REDACTED"}}'));
  });

  test('a list element over the bound fails the stream; nothing of it goes out', async () => {
    const big = { metadata: { name: 'big' }, data: { blob: 'A'.repeat(5000) } };
    const body = JSON.stringify({ kind: 'SecretList', apiVersion: 'v1', items: [{ data: { a: 'c21hbGw=' } }, big] });
    for (const chunk of [64 * 1024, 512]) {
      const { error, out } = await failure(body, { chunk, maxElementBytes: 4096 });
      assert.equal(error.code, 'MASK_ELEMENT_TOO_LARGE');
      assert.ok(!out.includes('AAAA'));
    }
  });

  test('a single object (or watch event) over the bound fails too', async () => {
    const { error } = await failure(JSON.stringify(secret('x', { a: 'A'.repeat(10_000) })), { chunk: 1000, maxElementBytes: 4096 });
    assert.equal(error.code, 'MASK_ELEMENT_TOO_LARGE');
  });

  test('a list whose kind comes after its items and says it is no list', async () => {
    const body = '{"apiVersion":"v1","items":[{"kind":"ConfigMap","data":{"a":"b"}}],"kind":"Secret"}';
    assert.equal((await failure(body)).error.code, 'MASK_UNPARSEABLE');
  });

  test('mutated documents: refused exactly when JSON.parse refuses them, else masked as maskObject does', async () => {
    const r = rng(99);
    const p = pod(r, 7); // carries a credential in an env value
    const bases = [
      JSON.stringify(secret('f', { a: b64('fuzz-secret') }, { metadata: { name: 'f', annotations: { [LAST_APPLIED_ANNOTATION]: lastAppliedSecret('f', 'x') } } })),
      JSON.stringify({ kind: 'Pod', apiVersion: 'v1', ...p }),
      JSON.stringify({ kind: 'SecretList', apiVersion: 'v1', metadata: {}, items: [{ data: { a: 'c2VjcmV0', n: 1.5e3, t: true, z: null } }, { data: { b: 'eA==' } }] }),
    ];
    const alphabet = ['{', '}', '[', ']', '"', ':', ',', '\\', ' ', '\n', '\u0001', 'n', 't', 'f', 'e', 'E', '-', '+', '.', '0', '1', 'u', 'é'];
    let refused = 0;
    for (let round = 0; round < 600; round++) {
      const base = pick(r, bases);
      const at = Math.floor(r() * base.length);
      const op = Math.floor(r() * 3);
      const ch = pick(r, alphabet);
      const body = op === 0 ? base.slice(0, at) + base.slice(at + 1) : op === 1 ? base.slice(0, at) + ch + base.slice(at) : base.slice(0, at) + ch + base.slice(at + 1);
      let parsed: unknown;
      let valid = true;
      try {
        parsed = JSON.parse(body);
        valid = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed); // a response is an object
      } catch {
        valid = false;
      }
      const chunk = 1 + Math.floor(r() * 300);
      if (valid) {
        const out = await run(body, { chunk });
        assert.deepEqual(JSON.parse(out.text), maskObject(parsed, masking).obj, body);
      } else {
        const { error, out } = await failure(body, { chunk });
        assert.equal(error.code, 'MASK_UNPARSEABLE', body);
        assert.ok(!out.includes('fuzz') && !out.includes('c2VjcmV0'), out);
        refused++;
      }
    }
    assert.ok(refused > 150 && refused < 450, `${refused} of 600 mutations were invalid JSON: both branches are exercised`);
  });

  test('an empty list, a list with null items, a list with members after its items', async () => {
    for (const body of [
      '{"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[]}\n',
      '{"kind":"SecretList","apiVersion":"v1","metadata":{},"items":null}',
      '{"items":[{"kind":"Secret","apiVersion":"v1","data":{"a":"c2VjcmV0"}}],"kind":"SecretList","apiVersion":"v1","metadata":{"continue":"x"}}',
      '{ "kind" : "SecretList" , "items" : [ { "data" : { "a" : "c2VjcmV0" } } , { } ] , "metadata" : { } }',
    ]) {
      const r = await run(body, { chunk: 3 });
      assert.deepEqual(JSON.parse(r.text), maskObject(JSON.parse(body), masking).obj, body);
      assert.ok(!r.text.includes('c2VjcmV0'));
    }
  });

  test('an empty body is no document: nothing to mask', async () => {
    assert.equal((await run('')).text, '');
  });
});

// ---- fast path, duplicates, memory ---------------------------------------------------------------

describe('fast path and full parse agree', () => {
  test('a generated PodList + SecretList: the same JSON either way; unchanged pods keep their bytes', async () => {
    for (const [kind, n, item] of [['PodList', 60, pod], ['SecretList', 30, secretItem]] as const) {
      const body = listJson(kind, n, item);
      const fast = await run(body, { chunk: 4096 });
      const full = await run(body, { chunk: 999, fastPath: false });
      assert.deepEqual(JSON.parse(fast.text), JSON.parse(full.text));
      assert.deepEqual(fast.counts, full.counts);
      if (kind === 'PodList') {
        // Pods 7 and 13 of every 20 carry a credential (a URL with a password; AWS_ACCESS_KEY_ID,
        // masked by its name); the others go out byte for byte.
        const inItems = (JSON.parse(body) as { items: unknown[] }).items;
        const outItems = (JSON.parse(fast.text) as { items: unknown[] }).items;
        const changed = inItems.filter((x, i) => JSON.stringify(x) !== JSON.stringify(outItems[i])).length;
        assert.equal(changed, 6);
        assert.ok(fast.text.includes(JSON.stringify(inItems[0])));
        assert.deepEqual(fast.counts, { fields: { 'env value': 3, 'env value (sensitive name)': 3 }, detectors: { 'url-credentials': 3 } });
      }
    }
  });

  test('random objects of many shapes: scan, full parse and maskObject agree, output and counts', async () => {
    const rules: MaskRule[] = [
      ...defaultMaskRules({ secretValues: 'hash' }),
      { kind: 'MyApp', apiGroup: 'example.com', paths: ['spec.password', 'spec.keys[*]', 'spec.nested.*.secret'], action: 'marker' },
      { kind: 'MyApp', paths: ['spec.config'], action: 'detectors', name: 'MyApp config' },
      { kind: 'Blob', paths: ['*'], action: 'hash' },
      { kind: 'MyApp', paths: ['spec.containers[*].env[*].value'], action: 'detectors', name: 'MyApp env' },
    ];
    const m = createKubeMasking({ detectors, rules, hashKey: 'k' });
    const r = rng(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    // Mostly harmless strings (so most objects are finished by the scan), some the detectors flag.
    const str = (): string =>
      r() < 0.06 ? pick([A_JWT, `Bearer ${A_JWT}`, AN_AWS_KEY, 'postgres://u:p@h/db']) : pick(['plain', 'v1', '', 'é ☃ 🎉', 'quote " and \\ and \n', 'http://example.com/x', 'c2VjcmV0', '\u0000']);
    const value = (depth: number): unknown => {
      const t = r();
      if (depth > 3 || t < 0.4) return pick([str(), str(), 42, -1.5e3, true, false, null]);
      if (t < 0.7) return Array.from({ length: Math.floor(r() * 4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, (_, i) => [pick(['data', 'spec', 'value', 'password', 'env', 'x', 'items', `k${i}`]), value(depth + 1)]));
    };
    // Env entries: names that mask and names that do not, mostly name first (as the API server
    // writes them), some value first or without one of the two, odd values.
    const envEntry = (): Record<string, unknown> => {
      const name = pick(['X', 'APP_ENV', 'DB_PASSWORD', 'AUTH_TOKEN', 'PASSWORD_FILE', 'AWS_SECRET_ACCESS_KEY', 42, undefined]);
      const v = r() < 0.7 ? str() : pick(['', '$(X)', null, 'fake-password', value(2)]);
      const e: Record<string, unknown> = r() < 0.8 ? { name, value: v } : { value: v, name };
      if (name === undefined) delete e.name;
      if (r() < 0.2) e.valueFrom = value(3);
      return e;
    };
    const containers = () => [{ name: str(), env: Array.from({ length: 1 + Math.floor(r() * 5) }, envEntry) }];
    const annotation = (): string => pick([lastAppliedSecret('s', 'pw'), '{not json', JSON.stringify({ kind: 'Pod', spec: { containers: [{ env: [{ value: A_JWT }] }] } }), '"just a string"']);
    const object = (): Record<string, unknown> => {
      const kind = pick(['Secret', 'Pod', 'MyApp', 'ConfigMap', 'TokenRequest', 'Blob', 'Deployment', undefined]);
      const apiVersion = kind === 'MyApp' ? pick(['example.com/v1', 'other.io/v1']) : kind === 'TokenRequest' ? 'authentication.k8s.io/v1' : kind === 'Deployment' ? 'apps/v1' : 'v1';
      const o: Record<string, unknown> = kind ? { kind, apiVersion } : {};
      o.metadata = { name: str(), annotations: r() < 0.3 ? { [LAST_APPLIED_ANNOTATION]: annotation(), other: str() } : { other: str() } };
      if (r() < 0.5) o.data = { a: str(), b: value(2), c: null };
      if (r() < 0.3) o.stringData = { s: str() };
      if (r() < 0.6) o.spec = { password: value(2), keys: [str(), value(3)], nested: { one: { secret: str(), other: str() } }, config: value(1), containers: containers(), template: { spec: { initContainers: containers() } } };
      if (r() < 0.3) o.status = { token: str(), message: str() };
      if (r() < 0.3) o.extra = value(0);
      return o;
    };
    let byName = 0;
    for (let round = 0; round < 300; round++) {
      const objs = Array.from({ length: 1 + Math.floor(r() * 4) }, object);
      const doc = pick(['list', 'list', 'typed list', 'single', 'watch'] as const);
      // A typed list's items carry no kind: the list's kind says it.
      const typed = objs.map((o) => ({ ...o, kind: undefined, apiVersion: undefined }));
      const body =
        doc === 'list'
          ? JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: {}, items: objs })
          : doc === 'typed list'
            ? JSON.stringify({ kind: `${objs[0]!.kind ?? 'Thing'}List`, apiVersion: String(objs[0]!.apiVersion ?? 'v1'), metadata: {}, items: typed })
          : doc === 'single'
            ? JSON.stringify(objs[0])
            : objs.map((o) => `${JSON.stringify({ type: 'ADDED', object: o })}\n`).join('');
      const expected = doc === 'watch' ? objs.map((o) => maskObject({ type: 'ADDED', object: structuredClone(o) }, m)) : [maskObject(JSON.parse(doc === 'single' ? JSON.stringify(objs[0]) : body), m)];
      const parsed = (t: string): unknown[] => t.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);
      const fast = await run(body, { masking: m, chunk: 1 + Math.floor(r() * 200) });
      const full = await run(body, { masking: m, chunk: 1 + Math.floor(r() * 200), fastPath: false });
      assert.deepEqual(parsed(fast.text), expected.map((e) => e.obj), `round ${round}: ${body}`);
      assert.deepEqual(parsed(full.text), expected.map((e) => e.obj), `round ${round}`);
      const sum: MaskCounts = { fields: {}, detectors: {} };
      for (const e of expected) {
        for (const [k, n] of Object.entries(e.counts.fields)) sum.fields[k] = (sum.fields[k] ?? 0) + n;
        for (const [k, n] of Object.entries(e.counts.detectors)) sum.detectors[k] = (sum.detectors[k] ?? 0) + n;
      }
      const sorted = (c: MaskCounts) => ({ fields: Object.fromEntries(Object.entries(c.fields).sort()), detectors: Object.fromEntries(Object.entries(c.detectors).sort()) });
      assert.deepEqual(sorted(fast.counts), sorted(sum), `round ${round}: counts ${body}`);
      assert.deepEqual(sorted(full.counts), sorted(sum), `round ${round}: counts`);
      byName += (sum.fields['env value (sensitive name)'] ?? 0) + (sum.fields['MyApp env (sensitive name)'] ?? 0);
    }
    assert.ok(byName > 40, `${byName} env values masked by name: the rule is exercised`);
  });

  test('a duplicate key cannot hide a value from the mask (the shadowed copy is dropped)', async () => {
    const body = `{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","env":[{"name":"T","value":"${A_JWT}"}]}]},"spec":{}}]}`;
    const r = await run(body);
    assert.ok(!r.text.includes(A_JWT));
    assert.deepEqual(JSON.parse(r.text), { kind: 'PodList', apiVersion: 'v1', items: [{ metadata: { name: 'p' }, spec: {} }] });
    const dupKind = '{"kind":"Secret","apiVersion":"v1","data":{"a":"c2VjcmV0"},"kind":"Secret"}';
    assert.ok(!(await run(dupKind)).text.includes('c2VjcmV0'));
  });

  test('non-ASCII text split inside a character comes out whole', async () => {
    const cm = { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'ü' }, data: { greeting: 'grüße, 日本語, 🎉' } };
    const body = Buffer.from(JSON.stringify(cm));
    for (let k = 1; k < body.length; k += 3) assert.deepEqual(JSON.parse((await run(body, { cuts: [k] })).text), cm);
  });
});

test('a 50 MB list streams in bounded memory', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const r = rng(11);
  const itemsPerChunk = 10;
  const head = Buffer.from('{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[');
  const m = createKubeJsonMasker({ masking });
  let outBytes = 0;
  let inBytes = 0;
  m.on('data', (b: Buffer) => (outBytes += b.length));
  const ended = new Promise<void>((resolve, reject) => {
    m.on('end', resolve);
    m.on('error', reject);
  });
  gc();
  const base = process.memoryUsage().heapUsed;
  let peak = 0;
  const write = (b: Buffer): Promise<void> => new Promise((resolve) => (m.write(b) ? resolve() : m.once('drain', resolve)));
  await write(head);
  let i = 0;
  for (let c = 0; inBytes < 50e6; c++) {
    const parts: string[] = [];
    for (let k = 0; k < itemsPerChunk; k++, i++) parts.push(JSON.stringify(pod(r, i)));
    const b = Buffer.from(`${i > itemsPerChunk ? ',' : ''}${parts.join(',')}`);
    inBytes += b.length;
    await write(b);
    if (c % 200 === 0) {
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed - base);
    }
  }
  m.end(']}');
  await ended;
  assert.ok(inBytes >= 50e6);
  assert.ok(outBytes > inBytes * 0.99, 'everything went out');
  assert.ok(peak < 10e6, `heap grew by ${(peak / 1e6).toFixed(1)} MB while ${(inBytes / 1e6).toFixed(0)} MB streamed`);
});

// ---- the object masker and rule paths --------------------------------------------------------

describe('maskObject', () => {
  test('a watch event, a list without item kinds, a Status; counts carry no values', () => {
    const ev = maskObject({ type: 'ADDED', object: secret('s', { p: b64('val-1') }) }, masking);
    assert.equal(get(ev.obj, 'object', 'data', 'p'), MASK_MARKER);
    const list = maskObject({ kind: 'SecretList', apiVersion: 'v1', items: [{ data: { p: b64('val-2') } }] }, masking);
    assert.equal(get(list.obj, 'items', 0, 'data', 'p'), MASK_MARKER);
    const status = maskObject({ kind: 'Status', message: `Bearer ${A_JWT}` }, masking);
    assert.equal(get(status.obj, 'message'), 'Bearer [masked:jwt]');
    const all = JSON.stringify([ev.counts, list.counts, status.counts]);
    for (const v of [b64('val-1'), b64('val-2'), A_JWT]) assert.ok(!all.includes(v));
  });

  test('a Secret-shaped item with `type` is not taken for a watch event', () => {
    const out = maskObject({ kind: 'SecretList', apiVersion: 'v1', items: [{ type: 'Opaque', object: {}, data: { p: 'c2VjcmV0' } }] }, masking);
    assert.equal(get(out.obj, 'items', 0, 'data', 'p'), MASK_MARKER);
  });

  test('an object that says no kind gets every rule (masking too much beats leaking)', () => {
    assert.equal(get(maskObject({ data: { p: 'c2VjcmV0' } }, masking).obj, 'data', 'p'), MASK_MARKER);
  });
});

describe('rule paths', () => {
  test('the syntax', () => {
    assert.deepEqual(parseRulePath('data.*'), [{ type: 'key', key: 'data' }, { type: 'anyKey' }]);
    assert.deepEqual(parseRulePath('spec.containers[*].env[*].value'), [
      { type: 'key', key: 'spec' },
      { type: 'key', key: 'containers' },
      { type: 'anyElement' },
      { type: 'key', key: 'env' },
      { type: 'anyElement' },
      { type: 'key', key: 'value' },
    ]);
    assert.deepEqual(parseRulePath('metadata.annotations["a.b/c"]'), [{ type: 'key', key: 'metadata' }, { type: 'key', key: 'annotations' }, { type: 'key', key: 'a.b/c' }]);
  });

  for (const bad of ['', '.', 'a.', 'a..b', 'a[1]', 'a[*]b', 'a["x"', 'a b']) {
    test(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(() => parseRulePath(bad), (e: unknown) => e instanceof KubeMaskError && e.code === 'MASK_RULE_INVALID');
    });
  }

  test('a rule with a bad path fails when the masking is built', () => {
    assert.throws(() => createKubeMasking({ detectors, rules: [{ kind: 'X', paths: ['spec..x'], action: 'marker' }] }), KubeMaskError);
  });
});
