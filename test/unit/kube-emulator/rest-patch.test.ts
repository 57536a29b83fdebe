import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { strategicMergePatch } from '../../../testing/kube-emulator/rest/strategic-merge.ts';
import type { Harness } from './rest-helpers.ts';
import { cm, harness } from './rest-helpers.ts';

const DEP = '/apis/apps/v1/namespaces/dev/deployments';
type Container = { name: string; image?: string; env?: { name: string; value?: string }[] };
const containers = (o: Record<string, unknown>) => (o.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers;

describe('rest: patch (json, merge, strategic), server-side apply, scale', () => {
  let h: Harness;
  before(async () => (h = await harness({ controllers: false })));
  after(async () => h.close());

  it('application/json-patch+json, with 422 for a failing op', async () => {
    await h.call('POST', '/api/v1/namespaces/dev/configmaps', { body: cm('jp') });
    const ok = await h.call('PATCH', '/api/v1/namespaces/dev/configmaps/jp', { body: [{ op: 'add', path: '/data/b', value: '2' }], contentType: 'application/json-patch+json' });
    assert.deepEqual(ok.json.data, { a: '1', b: '2' });
    const bad = await h.call('PATCH', '/api/v1/namespaces/dev/configmaps/jp', { body: [{ op: 'remove', path: '/data/zz' }], contentType: 'application/json-patch+json' });
    assert.equal(bad.status, 422);
    const test = await h.call('PATCH', '/api/v1/namespaces/dev/configmaps/jp', { body: [{ op: 'test', path: '/data/a', value: 'x' }], contentType: 'application/json-patch+json' });
    assert.equal(test.status, 422);
  });

  it('application/merge-patch+json: null deletes, lists replace', async () => {
    const r = await h.call('PATCH', '/api/v1/namespaces/dev/configmaps/jp', { body: { data: { a: null, c: '3' }, metadata: { labels: { x: 'y' } } }, contentType: 'application/merge-patch+json' });
    assert.deepEqual(r.json.data, { b: '2', c: '3' });
    assert.deepEqual((r.json.metadata as Record<string, unknown>).labels, { x: 'y' });
    const stale = await h.call('PATCH', '/api/v1/namespaces/dev/configmaps/jp', { body: { metadata: { resourceVersion: '1' }, data: { a: '1' } }, contentType: 'application/merge-patch+json' });
    assert.equal(stale.status, 409);
  });

  it("a Secret's stringData is folded into data on patch and update too, not only on create", async () => {
    const b64 = (v: string) => Buffer.from(v).toString('base64');
    await h.call('POST', '/api/v1/namespaces/dev/secrets', { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sd' }, data: { a: b64('1') } } });
    const p = await h.call('PATCH', '/api/v1/namespaces/dev/secrets/sd', { body: { stringData: { b: '2', a: 'x' } }, contentType: 'application/merge-patch+json' });
    assert.equal(p.status, 200, p.text);
    assert.deepEqual(p.json.data, { a: b64('x'), b: b64('2') });
    assert.equal(p.json.stringData, undefined);
    const u = await h.call('PUT', '/api/v1/namespaces/dev/secrets/sd', { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sd' }, data: { a: b64('1') }, stringData: { c: '3' } } });
    assert.equal(u.status, 200, u.text);
    assert.deepEqual(u.json.data, { a: b64('1'), c: b64('3') });
  });

  it('strategic merge: containers and env merge by name; $patch delete; directives', async () => {
    const r = await h.call('PATCH', `${DEP}/api`, {
      body: { spec: { template: { spec: { containers: [{ name: 'api', image: 'api:2', env: [{ name: 'NEW', value: 'x' }, { name: 'APP_ENV', $patch: 'delete' }] }] } } } },
      contentType: 'application/strategic-merge-patch+json',
    });
    assert.equal(r.status, 200, r.text);
    const [c] = containers(r.json);
    assert.equal(c!.image, 'api:2');
    const env = c!.env!.map((e) => e.name);
    assert.ok(env.includes('DATABASE_URL'));
    assert.ok(env.includes('NEW'));
    assert.ok(!env.includes('APP_ENV'));
    assert.equal((r.json.metadata as Record<string, unknown>).generation, 2);
    const out = strategicMergePatch('Pod', { metadata: { finalizers: ['a'] }, spec: { containers: [{ name: 'a', ports: [{ containerPort: 80 }] }, { name: 'b' }], tolerations: [{ key: 'x' }] } }, {
      metadata: { finalizers: ['b'] },
      spec: {
        '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }],
        containers: [{ name: 'a', ports: [{ containerPort: 81 }] }],
        tolerations: [{ key: 'y' }],
        '$deleteFromPrimitiveList/x': ['q'],
      },
    } as never);
    const spec = out.spec as { containers: { name: string; ports?: { containerPort: number }[] }[]; tolerations: unknown[] };
    assert.deepEqual(spec.containers.map((x) => x.name), ['b', 'a']);
    assert.deepEqual(spec.containers[1]!.ports!.map((p) => p.containerPort), [80, 81]);
    assert.deepEqual(spec.tolerations, [{ key: 'y' }]);
    assert.deepEqual((out.metadata as { finalizers: string[] }).finalizers, ['a', 'b']);
    const rep = strategicMergePatch('Pod', { spec: { a: { x: 1, y: 2 } } }, { spec: { a: { $patch: 'replace', z: 3 } } } as never);
    assert.deepEqual(rep, { spec: { a: { z: 3 } } });
    const retain = strategicMergePatch('Deployment', { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } }, { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } } as never);
    assert.deepEqual(retain, { spec: { strategy: { type: 'Recreate' } } });
  });

  it('custom resources refuse strategic merge patch (415)', async () => {
    const r = await h.call('PATCH', '/apis/demo.sluice.dev/v1/namespaces/dev/widgets/small', { body: { spec: { size: 2 } }, contentType: 'application/strategic-merge-patch+json' });
    assert.equal(r.status, 415);
    assert.equal(r.json.reason, 'UnsupportedMediaType');
    const m = await h.call('PATCH', '/apis/demo.sluice.dev/v1/namespaces/dev/widgets/small', { body: { spec: { size: 2 } }, contentType: 'application/merge-patch+json' });
    assert.equal((m.json.spec as Record<string, unknown>).size, 2);
  });

  it('server-side apply: create, conflict with another manager, force', async () => {
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: "1"\n  b: "2"\n';
    const noMgr = await h.call('PATCH', '/api/v1/namespaces/dev/configmaps/ssa', { body: yaml, contentType: 'application/apply-patch+yaml' });
    assert.equal(noMgr.status, 422);
    const c = await h.call('PATCH', '/api/v1/namespaces/dev/configmaps/ssa?fieldManager=alice', { body: yaml, contentType: 'application/apply-patch+yaml' });
    assert.equal(c.status, 201, c.text);
    const mf = (c.json.metadata as { managedFields: { manager: string; operation: string; fieldsType: string; fieldsV1: Record<string, unknown> }[] }).managedFields;
    assert.equal(mf[0]!.manager, 'alice');
    assert.equal(mf[0]!.operation, 'Apply');
    assert.deepEqual(mf[0]!.fieldsV1, { 'f:data': { 'f:a': {}, 'f:b': {} } });
    await h.call('PATCH', '/api/v1/namespaces/dev/configmaps/ssa?fieldManager=bob', { body: { data: { a: 'bob' } }, contentType: 'application/merge-patch+json' });
    const conflict = await h.call('PATCH', '/api/v1/namespaces/dev/configmaps/ssa?fieldManager=alice', { body: yaml, contentType: 'application/apply-patch+yaml' });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.json.reason, 'Conflict');
    assert.equal(conflict.json.message, 'Apply failed with 1 conflict: conflict with "bob" using v1: .data.a');
    assert.deepEqual((conflict.json.details as { causes: unknown[] }).causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "bob" using v1', field: '.data.a' }]);
    const forced = await h.call('PATCH', '/api/v1/namespaces/dev/configmaps/ssa?fieldManager=alice&force=true', { body: yaml, contentType: 'application/apply-patch+yaml' });
    assert.equal(forced.status, 200);
    assert.deepEqual(forced.json.data, { a: '1', b: '2' });
    // Dropping b from the applied config removes it (alice was its only owner).
    const drop = await h.call('PATCH', '/api/v1/namespaces/dev/configmaps/ssa?fieldManager=alice', { body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: "1"\n', contentType: 'application/apply-patch+yaml' });
    assert.deepEqual(drop.json.data, { a: '1' });
  });

  it('deployments/scale: get, merge patch, update with a stale resourceVersion', async () => {
    const g = await h.call('GET', `${DEP}/web/scale`);
    assert.equal(g.json.kind, 'Scale');
    assert.equal(g.json.apiVersion, 'autoscaling/v1');
    assert.deepEqual(g.json.spec, { replicas: 2 });
    assert.equal((g.json.status as Record<string, unknown>).selector, 'app=web');
    const p = await h.call('PATCH', `${DEP}/web/scale`, { body: { spec: { replicas: 5 } }, contentType: 'application/merge-patch+json' });
    assert.equal(p.status, 200, p.text);
    assert.deepEqual(p.json.spec, { replicas: 5 });
    const d = await h.call('GET', `${DEP}/web`);
    assert.equal((d.json.spec as Record<string, unknown>).replicas, 5);
    const stale = await h.call('PUT', `${DEP}/web/scale`, { body: { ...g.json, spec: { replicas: 1 } } });
    assert.equal(stale.status, 409);
  });

  it('status subresource changes only status; the main resource ignores status', async () => {
    const d = await h.call('GET', `${DEP}/api`);
    const main = await h.call('PATCH', `${DEP}/api`, { body: { status: { replicas: 99 } }, contentType: 'application/merge-patch+json' });
    assert.equal((main.json.status as Record<string, unknown>).replicas, (d.json.status as Record<string, unknown>).replicas);
    const st = await h.call('PATCH', `${DEP}/api/status`, { body: { status: { replicas: 99 }, spec: { replicas: 7 } }, contentType: 'application/merge-patch+json' });
    assert.equal((st.json.status as Record<string, unknown>).replicas, 99);
    assert.notEqual((st.json.spec as Record<string, unknown>).replicas, 7);
  });
});
