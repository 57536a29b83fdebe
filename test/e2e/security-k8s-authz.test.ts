/**
 * SECURITY.md "Principles", "Kubernetes authorization" and "Audit" on the plain HTTP data path:
 * identity and routing headers from the client are stripped, paths are canonical before any
 * decision, verbs are derived exactly as the API server derives them (deletecollection, watch,
 * every patch type is a write), guarded RBAC operations are refused to an SRE who otherwise has
 * "everything", bodies are bounded and parsed like the API server parses them. Every refusal is
 * a Kubernetes Status, is audited under Sluice's own request id, and never reaches the cluster.
 * (exec, attach, port-forward, cp, debug and upgrades: security-k8s-streams.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runKubectl } from '../../testing/harness/index.ts';
import {
  assertStatus,
  auditRecord,
  emulatorMark,
  denyNextHeld,
  emulatorSince,
  headerValues,
  rawExchange,
  rawRequest,
  request,
  startSecurityWorld,
  statusLines,
  type SecurityWorld,
} from './security-helpers.ts';

const API = '/clusters/demo/api/v1';

/** A policy a team would write on top of the demo: no configmap named blocked-* in dev, guarded as docs/policy.md advises. */
const EXTRA_POLICY = `
rules:
  - id: test/no-blocked-configmaps
    effect: deny
    message: configmaps named blocked-* are not allowed
    verbs: [create, update, patch]
    resources: [configmaps]
    namespaces: [dev]
    condition: 'object != null && has(object.metadata) && has(object.metadata.name) && object.metadata.name.startsWith("blocked-")'
`;

describe('SECURITY.md Kubernetes authorization (HTTP requests)', { timeout: 300_000 }, () => {
  let sw: SecurityWorld;
  let bob: string;
  let alice: string;

  before(async () => {
    sw = await startSecurityWorld('security-authz', { extraPolicy: EXTRA_POLICY });
    [bob, alice] = await Promise.all([sw.token('bob'), sw.token('alice')]);
  });

  after(async () => {
    await sw?.stop();
  });

  /** A request that must be refused before the cluster: its status and Status reason; returns the audit record. */
  async function expectRefused(opts: Parameters<typeof request>[1], code: number, reason: string, what: string) {
    const mark = emulatorMark(sw.world);
    const r = await request(sw.world, opts);
    assert.equal(r.status, code, `${what}: ${r.body.slice(0, 300)}`);
    assertStatus(r.json, code, reason, what);
    assert.deepEqual(
      emulatorSince(sw.world, mark).map((q) => `${q.method} ${q.url}`),
      [],
      `${what}: the request reached the cluster`,
    );
    const rec = await auditRecord(sw.world, r.requestId);
    assert.equal(rec.id, r.requestId);
    assert.equal(rec.outcome?.status, code, `${what}: audited status`);
    return { r, rec };
  }

  // ---- Principles: identity and routing headers from the client ----

  test('Impersonate-User: system:admin / Impersonate-Group: system:masters (any case) are stripped; the cluster sees bob', { timeout: 20_000 }, async () => {
    const mark = emulatorMark(sw.world);
    const r = await request(sw.world, {
      path: `${API}/namespaces/dev/pods`,
      token: bob,
      headers: {
        'Impersonate-User': 'system:admin',
        'IMPERSONATE-GROUP': 'system:masters',
        'impersonate-group': 'sre',
        'iMpErSoNaTe-UiD': '0',
        'Impersonate-Extra-Scopes': 'everything',
        'Impersonate-Extra-sluice-request-id': 'client-chosen-id',
      },
    });
    assert.equal(r.status, 200, r.body);
    const seen = emulatorSince(sw.world, mark);
    assert.equal(seen.length, 1);
    const q = seen[0]!;
    assert.equal(q.user?.username, 'bob');
    assert.ok(q.user?.groups.includes('developers'));
    assert.ok(!q.user?.groups.includes('system:masters'), `groups: ${q.user?.groups.join(',')}`);
    assert.ok(!q.user?.groups.includes('sre'));
    assert.deepEqual(headerValues(q, 'impersonate-user'), ['bob']);
    assert.deepEqual(headerValues(q, 'impersonate-group'), ['developers']);
    assert.deepEqual(headerValues(q, 'impersonate-uid'), []);
    assert.deepEqual(headerValues(q, 'impersonate-extra-scopes'), []);
    assert.deepEqual(headerValues(q, 'impersonate-extra-sluice-request-id'), [r.requestId]);
  });

  test('a request is decided for the verified person, whatever Impersonate-* says (bob → kube-system: 403)', { timeout: 20_000 }, async () => {
    const { r, rec } = await expectRefused(
      { path: `${API}/namespaces/kube-system/secrets`, token: bob, headers: { 'Impersonate-User': 'alice', 'Impersonate-Group': 'sre' } },
      403,
      'Forbidden',
      'impersonating alice',
    );
    assert.match(String(r.json?.message), /kube-system is reserved/);
    assert.equal(rec.principal?.username, 'bob');
    assert.equal(rec.decision?.effect, 'deny');
    assert.deepEqual(rec.decision?.rules, ['kube-system/only-alice']);
  });

  test('X-Forwarded-*, X-Remote-*, Forwarded, X-Request-Id, Audit-ID and headers named in Connection are ignored; Sluice sets its own id', { timeout: 20_000 }, async () => {
    const clientId = '11111111-2222-4333-8444-555555555555';
    const mark = emulatorMark(sw.world);
    const r = await request(sw.world, {
      path: `${API}/namespaces/dev/configmaps`,
      token: bob,
      headers: {
        'X-Forwarded-User': 'alice',
        'X-Forwarded-Groups': 'sre',
        'X-Forwarded-For': '10.0.0.1',
        'X-Forwarded-Host': 'evil.example',
        'X-Remote-User': 'alice',
        'X-Remote-Group': 'system:masters',
        'X-Remote-Extra-Scopes': 'all',
        Forwarded: 'for=10.0.0.1;host=evil.example',
        'X-Real-Ip': '10.0.0.1',
        'X-Request-Id': clientId,
        'Audit-ID': clientId,
        Cookie: 'session=stolen',
        Connection: 'keep-alive, X-Smuggled-Identity',
        'X-Smuggled-Identity': 'alice',
      },
    });
    assert.equal(r.status, 200, r.body);
    assert.ok(r.requestId && r.requestId !== clientId, 'Sluice derives its own id');
    const q = emulatorSince(sw.world, mark)[0];
    assert.ok(q, 'the request reached the cluster');
    assert.equal(q.user?.username, 'bob');
    for (const h of Object.keys(q.headers)) {
      assert.doesNotMatch(h, /^(x-forwarded-|x-remote-|forwarded$|x-real-ip$|x-request-id$|cookie$|x-smuggled-identity$)/, `header ${h} went upstream`);
    }
    assert.deepEqual(headerValues(q, 'audit-id'), [r.requestId], 'Audit-ID upstream is Sluice\'s id');
    assert.deepEqual(headerValues(q, 'impersonate-extra-sluice-request-id'), [r.requestId]);
    const rec = await auditRecord(sw.world, r.requestId);
    assert.equal(rec.principal?.username, 'bob');
    assert.equal(await sw.world.store.get(clientId), undefined, 'an audit record under the client\'s id');
    assert.ok(!JSON.stringify(rec).includes('alice'), 'the client-supplied user made it into the audit record');
  });

  // ---- Canonical paths ----

  const NON_CANONICAL = [
    `${API}/namespaces/dev/pods/../../kube-system/secrets`,
    `/clusters/demo//api/v1/namespaces/kube-system/secrets`,
    `${API}//namespaces/kube-system/secrets`,
    `${API}/namespaces/dev/pods/%2e%2e/%2e%2e/kube-system/secrets`,
    `${API}/namespaces/dev/pods/%2E%2E%2F%2E%2E%2Fkube-system%2Fsecrets`,
    `${API}/namespaces/dev/secrets/db-credentials%2F..`,
    `${API}/namespaces/kube-system%2fsecrets`,
    `${API}/namespaces/dev/./secrets`,
    `${API}/namespaces/dev/pods/..%5c..%5ckube-system%5csecrets`,
    `${API}/namespaces/dev/pods\\..\\..\\kube-system\\secrets`,
    `${API}/namespaces/dev/pods/%zz`,
    `/clusters/demo/../clusters/demo/api/v1/namespaces/kube-system/secrets`,
  ];

  test('non-canonical paths (.., //, %2e%2e, %2F, %5C, \\, bad escapes) → 400 before any decision; the cluster never sees them', { timeout: 30_000 }, async () => {
    for (const path of NON_CANONICAL) {
      const { r, rec } = await expectRefused({ path, token: bob }, 400, 'BadRequest', path);
      assert.ok(!r.body.includes(bob));
      assert.equal(rec.error?.code, 'REQUEST_INVALID', path);
      assert.equal(rec.code, 'kubernetes.request.rejected', path);
      assert.equal(rec.decision, undefined, `${path}: decided on a non-canonical path`);
    }
  });

  test('an unknown connection or a path outside /clusters/NAME → 404, nothing forwarded', { timeout: 15_000 }, async () => {
    for (const path of ['/clusters/other/api/v1/namespaces/dev/pods', '/api/v1/namespaces/dev/pods', '/clusters/demo%2f..%2fother/api']) {
      const { rec } = await expectRefused({ path, token: alice }, 404, 'NotFound', path);
      assert.equal(rec.error?.code, 'CONNECTION_UNKNOWN');
    }
  });

  // ---- Verbs exactly as the API server derives them ----

  test('DELETE on a collection is deletecollection (bob in prod: held for review, not a plain delete)', { timeout: 15_000 }, async () => {
    for (const query of ['', '?labelSelector=app%3Ddb']) {
      const denied = denyNextHeld(sw.world, 'bob', 'no mass deletes');
      const { r, rec } = await expectRefused({ method: 'DELETE', path: `${API}/namespaces/prod/pods${query}`, token: bob }, 403, 'Forbidden', `DELETE pods${query}`);
      assert.match(String(r.json?.message), new RegExp(`denied by carol: no mass deletes \\(approval ${await denied}`));
      assert.equal(rec.attributes?.verb, 'deletecollection');
      assert.equal(rec.attributes?.resource, 'pods');
      assert.equal(rec.attributes?.name, '');
      assert.equal(rec.decision?.effect, 'review');
      assert.deepEqual(rec.decision?.rules, ['developers/delete-prod']);
    }
  });

  test('kubectl delete namespace prod (alice) is a delete of namespace prod: held, and prod still exists', { timeout: 60_000 }, async () => {
    const mark = emulatorMark(sw.world);
    const denied = denyNextHeld(sw.world, 'alice', 'not the whole namespace');
    const k = await runKubectl({ version: '1.33', kubeconfig: await sw.kubeconfig('alice'), args: ['delete', 'namespace', 'prod', '--wait=false'], timeoutMs: 45_000 });
    assert.notEqual(k.code, 0, k.stdout);
    assert.match(k.stderr, /Error from server \(Forbidden\)/);
    assert.match(k.stderr, new RegExp(`denied by carol: not the whole namespace \\(approval ${await denied}`));
    assert.ok(!emulatorSince(sw.world, mark).some((q) => q.method === 'DELETE'), 'a DELETE reached the cluster');
    const id = /request ([0-9a-f-]{36})/.exec(k.stderr)?.[1];
    const rec = await auditRecord(sw.world, id);
    assert.deepEqual(
      { verb: rec.attributes?.verb, resource: rec.attributes?.resource, name: rec.attributes?.name, namespace: rec.attributes?.namespace },
      { verb: 'delete', resource: 'namespaces', name: 'prod', namespace: 'prod' },
    );
    assert.equal(rec.decision?.effect, 'review');
    assert.deepEqual(rec.decision?.rules, ['sre/delete-prod']);
    const ns = await request(sw.world, { path: `${API}/namespaces/prod`, token: alice });
    assert.equal(ns.status, 200, 'namespace prod is gone');
  });

  test('/api/v1/watch/... and ?watch=… are watch: ci-bot may list dev pods but not watch them', { timeout: 30_000 }, async () => {
    const ci = await sw.token('ci-bot');
    const list = await request(sw.world, { path: `${API}/namespaces/dev/pods`, token: ci });
    assert.equal(list.status, 200, `control: ci-bot lists dev pods: ${list.body.slice(0, 200)}`);
    for (const path of [`${API}/watch/namespaces/dev/pods`, `${API}/namespaces/dev/pods?watch=true`, `${API}/namespaces/dev/pods?watch=1`, `${API}/watch/namespaces/dev/pods/db-0`]) {
      const { rec } = await expectRefused({ path, token: ci, timeoutMs: 5_000 }, 403, 'Forbidden', path);
      assert.equal(rec.attributes?.verb, 'watch', path);
      assert.equal(rec.decision?.effect, 'deny');
    }
  });

  test('kubectl get --watch as ci-bot: the watch is refused with a Forbidden error', { timeout: 60_000 }, async () => {
    const k = await runKubectl({ version: '1.33', kubeconfig: await sw.kubeconfig('ci-bot'), args: ['get', 'pods', '-n', 'dev', '--watch', '--request-timeout=20s'], timeoutMs: 45_000 });
    assert.notEqual(k.code, 0, k.stdout);
    assert.match(k.stderr, /Forbidden|forbidden/);
    assert.match(k.stderr, /watch/);
  });

  // ---- Every patch type is a write ----

  const PATCHES: { type: string; body: string; query?: string }[] = [
    { type: 'application/json-patch+json', body: JSON.stringify([{ op: 'add', path: '/data/sec-json', value: '1' }]) },
    { type: 'application/merge-patch+json', body: JSON.stringify({ data: { 'sec-merge': '1' } }) },
    { type: 'application/strategic-merge-patch+json', body: JSON.stringify({ data: { 'sec-smp': '1' } }) },
    {
      type: 'application/apply-patch+yaml',
      query: '?fieldManager=security-test&force=true',
      body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\n  namespace: NS\ndata:\n  sec-apply: "1"\n',
    },
  ];

  test('server-side apply, JSON patch, merge patch and strategic merge patch are all patch: bob may in dev, not in prod', { timeout: 30_000 }, async () => {
    for (const p of PATCHES) {
      const prod = await expectRefused(
        { method: 'PATCH', path: `${API}/namespaces/prod/configmaps/app-config${p.query ?? ''}`, token: bob, headers: { 'content-type': p.type }, body: p.body.replace('NS', 'prod') },
        403,
        'Forbidden',
        `${p.type} in prod`,
      );
      assert.equal(prod.rec.attributes?.verb, 'patch', p.type);
      assert.equal(prod.rec.decision?.effect, 'deny');

      const mark = emulatorMark(sw.world);
      const dev = await request(sw.world, {
        method: 'PATCH',
        path: `${API}/namespaces/dev/configmaps/app-config${p.query ?? ''}`,
        token: bob,
        headers: { 'content-type': p.type },
        body: p.body.replace('NS', 'dev'),
      });
      assert.equal(dev.status, 200, `${p.type} in dev: ${dev.body.slice(0, 300)}`);
      const seen = emulatorSince(sw.world, mark);
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.method, 'PATCH');
      assert.equal(seen[0]!.headers['content-type'], p.type);
      const rec = await auditRecord(sw.world, dev.requestId);
      assert.equal(rec.attributes?.verb, 'patch');
      assert.deepEqual(rec.decision?.rules, ['developers/write-dev']);
    }
  });

  test('kubectl patch and kubectl apply --server-side in prod as bob: Forbidden, naming why', { timeout: 90_000 }, async () => {
    const kc = await sw.kubeconfig('bob');
    const patch = await runKubectl({ version: '1.33', kubeconfig: kc, args: ['patch', 'configmap', 'app-config', '-n', 'prod', '--type=json', '-p', '[{"op":"add","path":"/data/x","value":"1"}]'], timeoutMs: 45_000 });
    assert.notEqual(patch.code, 0);
    assert.match(patch.stderr, /Error from server \(Forbidden\)/);
    assert.match(patch.stderr, /no policy rule allows patch/);
    const manifest = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\n  namespace: prod\ndata:\n  x: "1"\n';
    const apply = await runKubectl({ version: '1.27', kubeconfig: kc, args: ['apply', '--server-side', '-f', '-'], stdin: manifest, timeoutMs: 45_000 });
    assert.notEqual(apply.code, 0);
    assert.match(apply.stderr, /Forbidden/);
  });

  // ---- Guarded RBAC and TokenRequest, for the SRE who has "everything" in dev ----

  test('alice: RoleBinding to cluster-admin, Role/ClusterRole with *, ClusterRoleBinding and create token are refused', { timeout: 120_000 }, async () => {
    const kc = await sw.kubeconfig('alice');
    const mark = emulatorMark(sw.world);
    const cases: { args: string[]; expect: RegExp }[] = [
      { args: ['create', 'rolebinding', 'pwn', '--clusterrole=cluster-admin', '--user=alice', '-n', 'dev'], expect: /rolebindings is a guarded operation/ },
      { args: ['create', 'role', 'pwn', '--verb=*', '--resource=*', '-n', 'dev'], expect: /roles is a guarded operation/ },
      { args: ['create', 'clusterrole', 'pwn', '--verb=*', '--resource=*'], expect: /no policy rule allows create/ },
      { args: ['create', 'clusterrolebinding', 'pwn', '--clusterrole=cluster-admin', '--user=alice'], expect: /no policy rule allows create/ },
      { args: ['create', 'token', 'default', '-n', 'dev'], expect: /minting service account tokens/ },
    ];
    for (const c of cases) {
      const k = await runKubectl({ version: '1.33', kubeconfig: kc, args: c.args, timeoutMs: 45_000 });
      assert.notEqual(k.code, 0, `${c.args.join(' ')} succeeded: ${k.stdout}`);
      // kubectl prints "Error from server (Forbidden)", or for some create subcommands "error: failed to create …: <message>".
      assert.match(k.stderr, /Error from server \(Forbidden\)|error: failed to create/, c.args.join(' '));
      assert.match(k.stderr, c.expect, `${c.args.join(' ')}: ${k.stderr}`);
      assert.doesNotMatch(k.stdout + k.stderr, /eyJ[A-Za-z0-9_-]{10,}/, 'a token was printed');
    }
    const writes = emulatorSince(sw.world, mark).filter((q) => q.method !== 'GET');
    assert.deepEqual(writes.map((q) => `${q.method} ${q.url}`), [], 'a guarded write reached the cluster');
  });

  test('raw TokenRequest (POST serviceaccounts/default/token) as alice: 403 naming the rule', { timeout: 15_000 }, async () => {
    const body = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['https://kubernetes.default.svc'] } });
    const { r, rec } = await expectRefused(
      { method: 'POST', path: `${API}/namespaces/dev/serviceaccounts/default/token`, token: alice, headers: { 'content-type': 'application/json' }, body },
      403,
      'Forbidden',
      'TokenRequest',
    );
    assert.match(String(r.json?.message), /minting service account tokens/);
    assert.equal(rec.attributes?.subresource, 'token');
    assert.ok(rec.decision?.rules.includes('safe-defaults/serviceaccount-token'));
  });

  // ---- Bodies ----

  for (const chunked of [false, true]) {
    test(`oversized body (> 3 MiB, ${chunked ? 'chunked, no Content-Length' : 'declared in Content-Length'}) → 413, nothing forwarded, audited`, { timeout: 60_000 }, async () => {
      const big = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { x: 'a'.repeat(3 * 2 ** 20) } });
      const { rec } = await expectRefused(
        {
          method: 'POST',
          path: `${API}/namespaces/dev/configmaps`,
          token: bob,
          headers: { 'content-type': 'application/json', ...(chunked ? { 'transfer-encoding': 'chunked' } : {}) },
          body: big,
          timeoutMs: 30_000,
        },
        413,
        'RequestEntityTooLarge',
        chunked ? 'chunked' : 'content-length',
      );
      assert.equal(rec.error?.code, 'REQUEST_TOO_LARGE');
      assert.equal(rec.code, 'kubernetes.request.rejected');
      assert.equal(rec.principal?.username, 'bob');
    });
  }

  test('nested-bomb JSON and YAML bodies (deep arrays, deep objects, alias bomb) → 400, nothing forwarded', { timeout: 30_000 }, async () => {
    const aliasBomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]', ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(10).fill(`*${'abcdefghi'[i]}`).join(',')}]`)].join('\n');
    const bodies: { type: string; body: string; method?: string; path?: string }[] = [
      { type: 'application/json', body: '['.repeat(10_000) + ']'.repeat(10_000) },
      { type: 'application/json; charset=utf-8', body: '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000) },
      { type: 'application/yaml', body: aliasBomb },
      { type: 'application/yaml', body: '['.repeat(5_000) + ']'.repeat(5_000) },
      { type: 'application/merge-patch+json', body: '['.repeat(10_000) + ']'.repeat(10_000), method: 'PATCH', path: `${API}/namespaces/dev/configmaps/app-config` },
    ];
    for (const b of bodies) {
      const { rec } = await expectRefused(
        { method: b.method ?? 'POST', path: b.path ?? `${API}/namespaces/dev/configmaps`, token: bob, headers: { 'content-type': b.type }, body: b.body },
        400,
        'BadRequest',
        `${b.type} ${b.body.slice(0, 20)}`,
      );
      assert.equal(rec.error?.code, 'REQUEST_INVALID');
    }
  });

  test('a body without Content-Type is JSON to the API server, so it is parsed (and bounded) by the gateway too', { timeout: 30_000 }, async () => {
    // The API server (and the emulator) decode a body without Content-Type as JSON. A gateway that
    // does not parse it gives policy conditions `object == null` and forwards nested bombs unchecked.
    const bomb = await (async () => {
      const mark = emulatorMark(sw.world);
      const r = await request(sw.world, { method: 'POST', path: `${API}/namespaces/dev/configmaps`, token: bob, body: '['.repeat(10_000) + ']'.repeat(10_000) });
      return { r, seen: emulatorSince(sw.world, mark) };
    })();
    assert.deepEqual(bomb.seen.map((q) => `${q.method} ${q.url}`), [], `a nested bomb without Content-Type reached the cluster (answer ${bomb.r.status})`);
    assert.equal(bomb.r.status, 400);
  });

  test('a policy condition on the body cannot be bypassed by leaving out Content-Type', { timeout: 30_000 }, async () => {
    const cm = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'blocked-one', namespace: 'dev' }, data: { a: 'b' } });
    // Control: with Content-Type the condition sees the object and denies.
    const denied = await expectRefused(
      { method: 'POST', path: `${API}/namespaces/dev/configmaps`, token: bob, headers: { 'content-type': 'application/json' }, body: cm },
      403,
      'Forbidden',
      'with Content-Type',
    );
    assert.deepEqual(denied.rec.decision?.rules, ['test/no-blocked-configmaps']);
    // Attack: the same bytes without Content-Type.
    const mark = emulatorMark(sw.world);
    const r = await request(sw.world, { method: 'POST', path: `${API}/namespaces/dev/configmaps`, token: bob, body: cm });
    const created = emulatorSince(sw.world, mark).filter((q) => q.method === 'POST' && (q.status ?? 0) < 300);
    assert.deepEqual(created.map((q) => `${q.method} ${q.url} → ${q.status}`), [], 'configmap blocked-one was created past the policy');
    assert.equal(r.status, 403, r.body.slice(0, 200));
  });

  // ---- Upgrades do not change what a request is ----

  test('Upgrade: websocket on a plain resource is still decided as that request (bob → kube-system secrets: 403, closed)', { timeout: 15_000 }, async () => {
    const mark = emulatorMark(sw.world);
    const x = await rawExchange(sw.world, {
      bytes: rawRequest('GET', `${API}/namespaces/kube-system/secrets`, [
        ['Authorization', `Bearer ${bob}`],
        ['Connection', 'Upgrade'],
        ['Upgrade', 'websocket'],
        ['Sec-WebSocket-Version', '13'],
        ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
      ]),
    });
    assert.deepEqual(statusLines(x.text), [403], x.text.slice(0, 200));
    assert.ok(x.closed, 'the connection stays open after a refused upgrade');
    assert.deepEqual(emulatorSince(sw.world, mark), []);
  });

  test('an upgrade to anything but websocket or SPDY/3.1 (h2c, tls) → 400, closed', { timeout: 15_000 }, async () => {
    for (const proto of ['h2c', 'TLS/1.2', 'websocket, h2c']) {
      const mark = emulatorMark(sw.world);
      const x = await rawExchange(sw.world, {
        bytes: rawRequest('GET', `${API}/namespaces/dev/pods`, [
          ['Authorization', `Bearer ${bob}`],
          ['Connection', 'Upgrade'],
          ['Upgrade', proto],
        ]),
      });
      assert.deepEqual(statusLines(x.text), [400], `${proto}: ${x.text.slice(0, 200)}`);
      assert.ok(x.closed);
      assert.deepEqual(emulatorSince(sw.world, mark), []);
    }
  });
});
