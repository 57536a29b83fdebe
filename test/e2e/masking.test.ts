/**
 * Inline masking end to end (issue #5): real kubectl 1.27 and 1.33 as the demo people, through
 * the gateway, against the emulator's seed data (which holds fake credentials in Secrets, env
 * values, a ConfigMap and container logs). No fake secret value may appear in any output —
 * neither in clear nor base64-encoded as Secret data carries it — and keys and structure stay.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { runKubectl, spawnKubectl } from '../../testing/harness/index.ts';
import { DEMO_POLICY_DIR, startGatewayWorld, type GatewayWorld } from '../../testing/harness/gateway-world.ts';
import { findResource } from '../../testing/kube-emulator/resources.ts';
import { FAKE } from '../../testing/kube-emulator/store/seed.ts';
import { FAKE_LOG_JWT } from '../../testing/kube-emulator/streams/log-content.ts';
import type { AuditRecord } from '../../src/audit/types.ts';

/** A fake AWS key pair ci-bot puts into a deployment (AWS's documented example id). */
const CI_AWS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const CI_AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

/** Every fake secret of the seed data, and what the tests add, in clear and base64. */
function secretsToFind(): string[] {
  const clear = [
    FAKE.databaseUrl,
    FAKE.awsAccessKeyId,
    FAKE.bearerToken,
    FAKE.serviceAccountToken,
    'fake-password',
    'fakedemosecret00',
    FAKE_LOG_JWT,
    CI_AWS_KEY_ID,
    CI_AWS_SECRET,
    'applied-secret-value',
  ];
  return [...clear, ...clear.map((s) => Buffer.from(s).toString('base64'))];
}

function assertNoSecrets(output: string, what: string): void {
  for (const s of secretsToFind()) assert.ok(!output.includes(s), `${what}: ${s} leaked:\n${output.slice(0, 4000)}`);
}

async function recordsFor(world: GatewayWorld, user: string, since: Date): Promise<AuditRecord[]> {
  // The outcome is committed before the last byte reaches kubectl, so it is there once kubectl exits.
  const page = await world.store.list({ limit: 200, user, since: new Date(since.getTime() - 1000) });
  return page.records;
}

for (const version of ['1.27', '1.33']) {
  describe(`inline masking through the gateway, kubectl ${version}`, () => {
    let dir: string;
    let world: GatewayWorld;
    const kc = new Map<string, string>();
    const kubectl = (user: string, args: string[], stdin?: string) =>
      runKubectl({ version, kubeconfig: kc.get(user)!, args, ...(stdin !== undefined ? { stdin } : {}) });

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'sluice-masking-'));
      world = await startGatewayWorld({ dir });
      for (const u of ['alice', 'bob', 'ci-bot']) kc.set(u, await world.kubeconfigFor(u));
    });
    after(async () => {
      await world?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    test('get secret -o json: every data value masked, keys and metadata intact; the audit record counts the fields', async () => {
      const since = new Date();
      const r = await kubectl('bob', ['get', 'secret', 'db-credentials', '-n', 'prod', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      assertNoSecrets(r.stdout, 'get secret -o json');
      const s = JSON.parse(r.stdout) as { kind: string; metadata: { name: string; labels: Record<string, string> }; data: Record<string, string>; type: string };
      assert.equal(s.kind, 'Secret');
      assert.equal(s.metadata.name, 'db-credentials');
      assert.deepEqual(s.metadata.labels, { app: 'db' });
      assert.equal(s.type, 'Opaque');
      assert.deepEqual(Object.keys(s.data).sort(), ['password', 'url', 'username']);
      for (const v of Object.values(s.data)) assert.equal(v, 'REDACTED');
      const rec = (await recordsFor(world, 'bob', since)).find((x) => x.attributes?.resource === 'secrets' && x.attributes.name === 'db-credentials');
      assert.ok(rec?.outcome?.masking, 'the record carries the masking counts');
      assert.equal(rec.outcome.masking.fields['Secret data'], 3);
      assert.ok(!JSON.stringify(rec).includes('fake-password'));
    });

    test('get secret -o yaml and get secrets -o yaml (a list): masked', async () => {
      const one = await kubectl('bob', ['get', 'secret', 'default-token-fake1', '-n', 'dev', '-o', 'yaml']);
      assert.equal(one.code, 0, one.stderr);
      assertNoSecrets(one.stdout, 'get secret -o yaml');
      const doc = parseYaml(one.stdout) as { data: Record<string, string> };
      assert.deepEqual(Object.keys(doc.data).sort(), ['ca.crt', 'namespace', 'token']);
      assert.equal(doc.data.token, 'REDACTED');
      const list = await kubectl('bob', ['get', 'secrets', '-n', 'prod', '-o', 'yaml']);
      assert.equal(list.code, 0, list.stderr);
      assertNoSecrets(list.stdout, 'get secrets -o yaml');
      const items = (parseYaml(list.stdout) as { items: { metadata: { name: string }; data: Record<string, string> }[] }).items;
      assert.ok(items.length >= 2);
      for (const it of items) for (const v of Object.values(it.data)) assert.equal(v, 'REDACTED', it.metadata.name);
    });

    test('get secrets (Table) and describe secret: names and sizes, no values', async () => {
      const t = await kubectl('bob', ['get', 'secrets', '-n', 'prod']);
      assert.equal(t.code, 0, t.stderr);
      assert.match(t.stdout, /db-credentials\s+Opaque\s+3/);
      assertNoSecrets(t.stdout, 'get secrets');
      const wide = await kubectl('bob', ['get', 'secrets', '-n', 'prod', '--show-labels', '-o', 'wide']);
      assert.equal(wide.code, 0, wide.stderr);
      assertNoSecrets(wide.stdout, 'get secrets -o wide');
      const d = await kubectl('bob', ['describe', 'secret', 'db-credentials', '-n', 'prod']);
      assert.equal(d.code, 0, d.stderr);
      assert.match(d.stdout, /password:\s+\d+ bytes/);
      assertNoSecrets(d.stdout, 'describe secret');
    });

    test('get secret -w: the events of a watch are masked as they stream', async () => {
      const name = `watched-${version.replace('.', '-')}`;
      const w = spawnKubectl({ version, kubeconfig: kc.get('bob')!, args: ['get', 'secrets', '-n', 'dev', '-w', '-o', 'json'] });
      try {
        await w.waitForOutput(/"default-token-fake1"/);
        const c = await kubectl('bob', ['create', 'secret', 'generic', name, '-n', 'dev', '--from-literal=token=applied-secret-value']);
        assert.equal(c.code, 0, c.stderr);
        assertNoSecrets(c.stdout, 'create secret');
        await w.waitForOutput(new RegExp(`"${name}"`));
      } finally {
        const out = await w.stop();
        assertNoSecrets(out.stdout, 'get secrets -w');
        assert.match(out.stdout, /"token": "REDACTED"/);
      }
    });

    test('apply of a Secret: the answer, the last-applied annotation and a dry run are masked', async () => {
      const name = `applied-${version.replace('.', '-')}`;
      const file = join(dir, `${name}.yaml`);
      await writeFile(file, `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\n  namespace: dev\nstringData:\n  password: applied-secret-value\n`);
      const dry = await kubectl('bob', ['apply', '-f', file, '--dry-run=server', '-o', 'json']);
      assert.equal(dry.code, 0, dry.stderr);
      assertNoSecrets(dry.stdout, 'apply --dry-run=server');
      const a = await kubectl('bob', ['apply', '-f', file, '-o', 'yaml']);
      assert.equal(a.code, 0, a.stderr);
      assertNoSecrets(a.stdout, 'apply -o yaml');
      const g = await kubectl('bob', ['get', 'secret', name, '-n', 'dev', '-o', 'json']);
      assert.equal(g.code, 0, g.stderr);
      assertNoSecrets(g.stdout, 'get applied secret');
      const s = JSON.parse(g.stdout) as { data: Record<string, string>; metadata: { annotations: Record<string, string> } };
      assert.deepEqual(s.data, { password: 'REDACTED' });
      const lastApplied = JSON.parse(s.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']!) as { stringData: Record<string, string> };
      assert.deepEqual(lastApplied.stringData, { password: 'REDACTED' });
      // The cluster has the real value: masking changed the answer, not the object.
      const stored = world.emulator.store.get(findResource('', 'v1', 'secrets')!, 'dev', name) as { data: Record<string, string> } | undefined;
      assert.equal(Buffer.from(stored!.data.password!, 'base64').toString(), 'applied-secret-value');
    });

    test('ci-bot creates a deployment with an AWS key in its env: the answer and later reads are masked', async () => {
      const name = `ci-aws-${version.replace('.', '-')}`;
      const manifest = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace: 'dev' },
        spec: {
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: {
              containers: [
                {
                  name: 'app',
                  image: 'nginx:1.27',
                  env: [
                    { name: 'APP_ENV', value: 'dev' },
                    { name: 'AWS_ACCESS_KEY_ID', value: CI_AWS_KEY_ID },
                    { name: 'AWS_SECRET_ACCESS_KEY', value: CI_AWS_SECRET },
                  ],
                },
              ],
            },
          },
        },
      };
      const c = await kubectl('ci-bot', ['create', '-f', '-', '-o', 'json'], JSON.stringify(manifest));
      assert.equal(c.code, 0, c.stderr);
      assertNoSecrets(c.stdout, 'create deployment');
      const env = (JSON.parse(c.stdout) as typeof manifest).spec.template.spec.containers[0]!.env;
      assert.deepEqual(env.map((e) => e.name), ['APP_ENV', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
      assert.equal(env[0]!.value, 'dev');
      const g = await kubectl('bob', ['get', 'deploy', name, '-n', 'dev', '-o', 'yaml']);
      assert.equal(g.code, 0, g.stderr);
      assertNoSecrets(g.stdout, 'get deploy -o yaml');
      const seeded = await kubectl('bob', ['get', 'deploy,pods,cm', '-n', 'prod', '-o', 'json']);
      assert.equal(seeded.code, 0, seeded.stderr);
      assertNoSecrets(seeded.stdout, 'get deploy,pods,cm -n prod');
    });

    test(`exec (${version === '1.27' ? 'SPDY' : 'WebSocket'}): a service-account token printed in the container is masked; the exit code passes`, async () => {
      const since = new Date();
      const r = await kubectl('alice', ['exec', 'db-0', '-n', 'dev', '--', 'cat', '/var/run/secrets/kubernetes.io/serviceaccount/token']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^\[MASKED:jwt\]/);
      assert.ok(!/eyJ[A-Za-z0-9_-]{10,}/.test(r.stdout), r.stdout);
      const env = await kubectl('alice', ['exec', 'db-0', '-n', 'dev', '--', 'env']);
      assert.equal(env.code, 0, env.stderr);
      assertNoSecrets(env.stdout, 'exec env');
      assert.match(env.stdout, /POSTGRES_USER=app/);
      const fail = await kubectl('alice', ['exec', 'db-0', '-n', 'dev', '--', 'sh', '-c', 'exit 3']);
      assert.equal(fail.code, 3, fail.stderr);
      const rec = (await recordsFor(world, 'alice', since)).find((x) => x.attributes?.subresource === 'exec' && x.outcome?.masking?.detectors.jwt);
      assert.ok(rec, 'the exec record counts the masked token');
    });

    test('logs and logs -f: credentials printed by a container are masked line by line', async () => {
      const l = await kubectl('bob', ['logs', 'db-0', '-n', 'prod']);
      assert.equal(l.code, 0, l.stderr);
      assert.match(l.stdout, /database connection established/);
      assertNoSecrets(l.stdout, 'logs');
      const f = spawnKubectl({ version, kubeconfig: kc.get('bob')!, args: ['logs', '-f', 'db-0', '-n', 'dev'] });
      try {
        await f.waitForOutput(/Authorization: Bearer \[MASKED:/);
      } finally {
        const out = await f.stop();
        assertNoSecrets(out.stdout, 'logs -f');
        assert.match(out.stdout, /postgres:\/\/app:\[MASKED:connection-string-password\]@db:5432\/app/);
      }
    });
  });
}

/** A raw GET through the gateway, as `user`, with the given headers. */
async function rawGet(world: GatewayWorld, user: string, path: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const token = await world.tokenFor(user);
  const ca = await readFile(world.caFile);
  const url = new URL(world.gateway.clusterUrl('demo') + path);
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, headers: { authorization: `Bearer ${token}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

describe('masking: policy lifts, hashed Secret values, formats that could bypass it', () => {
  let dir: string;
  let world: GatewayWorld;
  const version = '1.33';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-masking-cfg-'));
    const keyFile = join(dir, 'mask-hash.key');
    await writeFile(keyFile, 'a test key for hashing secret values, 32+ bytes long');
    // The demo policy without its TokenRequest deny, plus a rule that lets bob mint tokens in dev.
    const extra = join(dir, 'token-policy.yaml');
    await writeFile(
      extra,
      'rules:\n  - id: test/bob-mints-tokens\n    effect: allow\n    subjects: { users: [bob] }\n    verbs: [create]\n    apiGroups: [""]\n    resources: [serviceaccounts/token]\n    namespaces: [dev]\n',
    );
    const demo = (await readdir(DEMO_POLICY_DIR)).filter((f) => f.endsWith('.yaml') && f !== '00-safe-defaults.yaml').map((f) => join(DEMO_POLICY_DIR, f));
    world = await startGatewayWorld({ dir, policyPaths: [...demo, extra], masking: { secretValues: 'hash', hashKeyFile: keyFile, rules: [{ kind: 'ConfigMap', apiGroup: '', paths: ['data["FEATURE_FLAGS"]'], action: 'marker', name: 'feature flags' }] } });
  });
  after(async () => {
    await world?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('alice (sre) reads dev Secrets unmasked through a mask: off rule, recorded as lifted; prod stays masked', async () => {
    const kc = await world.kubeconfigFor('alice');
    const since = new Date();
    const dev = await runKubectl({ version, kubeconfig: kc, args: ['get', 'secret', 'db-credentials', '-n', 'dev', '-o', 'json'] });
    assert.equal(dev.code, 0, dev.stderr);
    const data = (JSON.parse(dev.stdout) as { data: Record<string, string> }).data;
    assert.equal(Buffer.from(data.password!, 'base64').toString(), FAKE.dbPassword);
    const prod = await runKubectl({ version, kubeconfig: kc, args: ['get', 'secret', 'db-credentials', '-n', 'prod', '-o', 'json'] });
    assert.equal(prod.code, 0, prod.stderr);
    assertNoSecrets(prod.stdout, 'alice get secret -n prod');
    const recs = await recordsFor(world, 'alice', since);
    const lifted = recs.find((r) => r.attributes?.namespace === 'dev' && r.attributes.resource === 'secrets');
    assert.deepEqual(lifted?.outcome?.masking?.lifted, ['sre/secrets-dev-unmasked']);
    const masked = recs.find((r) => r.attributes?.namespace === 'prod' && r.attributes.resource === 'secrets');
    assert.equal(masked?.outcome?.masking?.lifted, undefined);
    assert.equal(masked?.outcome?.masking?.fields['Secret data'], 3);
  });

  test('secretValues: hash — equal values hash equal, the value itself never appears; operator rules apply', async () => {
    const kc = await world.kubeconfigFor('bob');
    const r = await runKubectl({ version, kubeconfig: kc, args: ['get', 'secrets', '-n', 'prod', '-o', 'json'] });
    assert.equal(r.code, 0, r.stderr);
    assertNoSecrets(r.stdout, 'hashed secrets');
    const items = (JSON.parse(r.stdout) as { items: { metadata: { name: string }; data: Record<string, string> }[] }).items;
    for (const it of items) for (const v of Object.values(it.data)) assert.match(v, /^hmac[0-9a-f]{20}$/);
    const dev = await runKubectl({ version, kubeconfig: kc, args: ['get', 'secret', 'db-credentials', '-n', 'dev', '-o', 'json'] });
    const prodDb = items.find((i) => i.metadata.name === 'db-credentials')!;
    // The same password in dev and prod gives the same hash; username and password differ.
    assert.equal((JSON.parse(dev.stdout) as { data: Record<string, string> }).data.password, prodDb.data.password);
    assert.notEqual(prodDb.data.password, prodDb.data.username);
    const cm = await runKubectl({ version, kubeconfig: kc, args: ['get', 'cm', 'app-config', '-n', 'prod', '-o', 'json'] });
    const cmData = (JSON.parse(cm.stdout) as { data: Record<string, string> }).data;
    assert.equal(cmData.FEATURE_FLAGS, 'REDACTED');
    assert.equal(cmData.LOG_LEVEL, 'info');
    assert.match(cmData['upstream.yaml']!, /Authorization: Bearer \[MASKED:bearer-token\]/);
  });

  test('kubectl create token: the token in the TokenRequest answer is masked (kubectl 1.33 sends it as protobuf)', async () => {
    const kc = await world.kubeconfigFor('bob');
    const since = new Date();
    const r = await runKubectl({ version, kubeconfig: kc, args: ['create', 'token', 'default', '-n', 'dev', '-o', 'json'] });
    assert.equal(r.code, 0, r.stderr);
    const tr = JSON.parse(r.stdout) as { kind: string; status: { token: string; expirationTimestamp: string } };
    assert.equal(tr.kind, 'TokenRequest');
    assert.equal(tr.status.token, 'REDACTED');
    assert.ok(tr.status.expirationTimestamp);
    assert.ok(!/eyJ[A-Za-z0-9_-]{10,}\./.test(r.stdout), r.stdout);
    const plain = await runKubectl({ version, kubeconfig: kc, args: ['create', 'token', 'default', '-n', 'dev'] });
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout.trim(), 'REDACTED');
    const rec = (await recordsFor(world, 'bob', since)).find((x) => x.attributes?.subresource === 'token');
    assert.equal(rec?.outcome?.masking?.fields['TokenRequest token'], 1);
  });

  test('patch and replace of a Secret: the answers are masked', async () => {
    const kc = await world.kubeconfigFor('bob');
    const c = await runKubectl({ version, kubeconfig: kc, args: ['create', 'secret', 'generic', 'patched', '-n', 'dev', '--from-literal=password=fake-password', '--from-literal=url=postgres://app:fake-password@db:5432/app', '--from-literal=username=app'] });
    assert.equal(c.code, 0, c.stderr);
    const p = await runKubectl({ version, kubeconfig: kc, args: ['patch', 'secret', 'patched', '-n', 'dev', '--type=merge', '-p', '{"stringData":{"extra":"applied-secret-value"}}', '-o', 'json'] });
    assert.equal(p.code, 0, p.stderr);
    assertNoSecrets(p.stdout, 'patch secret');
    assert.deepEqual(Object.keys((JSON.parse(p.stdout) as { data: Record<string, string> }).data).sort(), ['extra', 'password', 'url', 'username']);
    const manifest = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'patched', namespace: 'dev' }, stringData: { password: 'applied-secret-value' } });
    const rep = await runKubectl({ version, kubeconfig: kc, args: ['replace', '-f', '-', '-o', 'yaml'], stdin: manifest });
    assert.equal(rep.code, 0, rep.stderr);
    assertNoSecrets(rep.stdout, 'replace secret');
  });

  test('a client asking for protobuf only, or compressed, gets masked JSON', async () => {
    const pb = await rawGet(world, 'bob', '/api/v1/namespaces/prod/secrets/db-credentials', { accept: 'application/vnd.kubernetes.protobuf', 'accept-encoding': 'gzip' });
    assert.equal(pb.status, 200, pb.body);
    assert.match(String(pb.headers['content-type']), /^application\/json/);
    assert.equal(pb.headers['content-encoding'], undefined);
    assertNoSecrets(pb.body, 'protobuf-only request');
    assert.match(pb.body, /"password":"hmac[0-9a-f]{20}"/);
    const yaml = await rawGet(world, 'bob', '/api/v1/namespaces/prod/secrets', { accept: 'application/yaml' });
    assert.equal(yaml.status, 200, yaml.body);
    assertNoSecrets(yaml.body, 'yaml request');
    const watch = await rawGet(world, 'bob', '/api/v1/namespaces/prod/secrets?watch=true&timeoutSeconds=1', { accept: 'application/vnd.kubernetes.protobuf;stream=watch' });
    assert.equal(watch.status, 200, watch.body);
    assert.match(watch.body, /"type":"ADDED"/);
    assertNoSecrets(watch.body, 'protobuf watch request');
  });
});
