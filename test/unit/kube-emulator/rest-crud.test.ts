import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Harness } from './rest-helpers.ts';
import { cm, harness } from './rest-helpers.ts';

describe('rest: CRUD, conflicts, validation, dryRun, deletecollection', () => {
  let h: Harness;
  before(async () => (h = await harness()));
  after(async () => h.close());

  it('creates, gets, rejects duplicates, deletes with a Success Status, then 404s', async () => {
    const c = await h.call('POST', '/api/v1/namespaces/dev/configmaps', { body: cm('one') });
    assert.equal(c.status, 201);
    const meta = c.json.metadata as Record<string, unknown>;
    assert.equal(meta.namespace, 'dev');
    assert.match(String(meta.uid), /^[0-9a-f-]{36}$/);
    assert.match(String(meta.resourceVersion), /^\d+$/);
    assert.ok(meta.creationTimestamp);
    const g = await h.call('GET', '/api/v1/namespaces/dev/configmaps/one');
    assert.equal(g.status, 200);
    assert.deepEqual(g.json.data, { a: '1' });
    const dup = await h.call('POST', '/api/v1/namespaces/dev/configmaps', { body: cm('one') });
    assert.equal(dup.status, 409);
    assert.equal(dup.json.reason, 'AlreadyExists');
    assert.equal(dup.json.message, 'configmaps "one" already exists');
    const d = await h.call('DELETE', '/api/v1/namespaces/dev/configmaps/one');
    assert.equal(d.status, 200);
    assert.equal(d.json.kind, 'Status');
    assert.equal(d.json.status, 'Success');
    assert.deepEqual({ ...(d.json.details as object), uid: undefined }, { name: 'one', kind: 'configmaps', uid: undefined });
    const nf = await h.call('GET', '/api/v1/namespaces/dev/configmaps/one');
    assert.equal(nf.status, 404);
    assert.equal(nf.json.message, 'configmaps "one" not found');
    assert.deepEqual(nf.json.details, { name: 'one', kind: 'configmaps' });
    const nfd = await h.call('GET', '/apis/apps/v1/namespaces/dev/deployments/nope');
    assert.equal(nfd.json.message, 'deployments.apps "nope" not found');
  });

  it('enforces resourceVersion preconditions on update (409 Conflict)', async () => {
    const c = await h.call('POST', '/api/v1/namespaces/dev/configmaps', { body: cm('rv') });
    const rv = String((c.json.metadata as Record<string, unknown>).resourceVersion);
    const ok = await h.call('PUT', '/api/v1/namespaces/dev/configmaps/rv', { body: cm('rv', { a: '2' }, { resourceVersion: rv }) });
    assert.equal(ok.status, 200);
    assert.notEqual((ok.json.metadata as Record<string, unknown>).resourceVersion, rv);
    const stale = await h.call('PUT', '/api/v1/namespaces/dev/configmaps/rv', { body: cm('rv', { a: '3' }, { resourceVersion: rv }) });
    assert.equal(stale.status, 409);
    assert.equal(stale.json.reason, 'Conflict');
    assert.equal(stale.json.message, 'Operation cannot be fulfilled on configmaps "rv": the object has been modified; please apply your changes to the latest version and try again');
    const mismatch = await h.call('PUT', '/api/v1/namespaces/dev/configmaps/rv', { body: cm('other') });
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.json.message, 'the name of the object (other) does not match the name on the URL (rv)');
  });

  it('no-op updates keep the resourceVersion', async () => {
    const c = await h.call('POST', '/api/v1/namespaces/dev/configmaps', { body: cm('noop') });
    const u = await h.call('PUT', '/api/v1/namespaces/dev/configmaps/noop', { body: c.json });
    assert.equal((u.json.metadata as Record<string, unknown>).resourceVersion, (c.json.metadata as Record<string, unknown>).resourceVersion);
  });

  it('validates namespace, name and generateName', async () => {
    const ns = await h.call('POST', '/api/v1/namespaces/nope/configmaps', { body: cm('x') });
    assert.equal(ns.status, 404);
    assert.equal(ns.json.message, 'namespaces "nope" not found');
    const mm = await h.call('POST', '/api/v1/namespaces/dev/configmaps', { body: cm('x', {}, { namespace: 'prod' }) });
    assert.equal(mm.status, 400);
    assert.equal(mm.json.message, 'the namespace of the provided object does not match the namespace sent on the request');
    const noName = await h.call('POST', '/api/v1/namespaces/dev/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} } });
    assert.equal(noName.status, 422);
    assert.equal(noName.json.reason, 'Invalid');
    assert.equal(noName.json.message, 'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required');
    const gen = await h.call('POST', '/api/v1/namespaces/dev/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-' } } });
    assert.equal(gen.status, 201);
    assert.match(String((gen.json.metadata as Record<string, unknown>).name), /^gen-[a-z0-9]{5}$/);
    const bad = await h.call('POST', '/api/v1/namespaces/dev/configmaps', { body: '{not json' });
    assert.equal(bad.status, 400);
  });

  it('fieldValidation Strict rejects unknown fields, Warn warns', async () => {
    const strict = await h.call('POST', '/api/v1/namespaces/dev/configmaps?fieldValidation=Strict', { body: { ...cm('fv'), bogus: 1 } });
    assert.equal(strict.status, 400);
    assert.equal(strict.json.message, 'strict decoding error: unknown field "bogus"');
    const warn = await h.call('POST', '/api/v1/namespaces/dev/configmaps?fieldValidation=Warn', { body: { ...cm('fv'), bogus: 1 } });
    assert.equal(warn.status, 201);
    assert.match(String(warn.headers.warning), /unknown field \\"bogus\\"/);
  });

  it('dryRun=All stores nothing', async () => {
    const before = h.rest.store.resourceVersion();
    const c = await h.call('POST', '/api/v1/namespaces/dev/configmaps?dryRun=All', { body: cm('dry') });
    assert.equal(c.status, 201);
    assert.equal((await h.call('GET', '/api/v1/namespaces/dev/configmaps/dry')).status, 404);
    const d = await h.call('DELETE', '/apis/apps/v1/namespaces/dev/deployments/web?dryRun=All');
    assert.equal(d.status, 200);
    const p = await h.call('PATCH', '/apis/apps/v1/namespaces/dev/deployments/web?dryRun=All', { body: { spec: { replicas: 9 } }, contentType: 'application/merge-patch+json' });
    assert.equal((p.json.spec as Record<string, unknown>).replicas, 9);
    assert.equal(h.rest.store.resourceVersion(), before);
    const g = await h.call('GET', '/apis/apps/v1/namespaces/dev/deployments/web');
    assert.equal((g.json.spec as Record<string, unknown>).replicas, 2);
  });

  it('deletecollection deletes what the selector matches', async () => {
    for (const n of ['dc1', 'dc2', 'dc3']) {
      await h.call('POST', '/api/v1/namespaces/prod/configmaps', { body: cm(n, {}, { labels: { batch: n === 'dc3' ? 'keep' : 'drop' } }) });
    }
    const r = await h.call('DELETE', '/api/v1/namespaces/prod/configmaps?labelSelector=batch%3Ddrop');
    assert.equal(r.status, 200);
    assert.equal(r.json.kind, 'ConfigMapList');
    assert.deepEqual((r.json.items as { metadata: { name: string } }[]).map((i) => i.metadata.name), ['dc1', 'dc2']);
    const left = await h.call('GET', '/api/v1/namespaces/prod/configmaps?labelSelector=batch');
    assert.deepEqual((left.json.items as { metadata: { name: string } }[]).map((i) => i.metadata.name), ['dc3']);
  });

  it('pods delete gracefully: the Pod with deletionTimestamp, then gone', async () => {
    const list = await h.call('GET', '/api/v1/namespaces/dev/pods?labelSelector=app%3Ddb');
    const name = (list.json.items as { metadata: { name: string } }[])[0]!.metadata.name;
    const d = await h.call('DELETE', `/api/v1/namespaces/dev/pods/${name}`, { body: { propagationPolicy: 'Background' } });
    assert.equal(d.status, 200);
    assert.equal(d.json.kind, 'Pod');
    assert.ok((d.json.metadata as Record<string, unknown>).deletionTimestamp);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal((await h.call('GET', `/api/v1/namespaces/dev/pods/${name}`)).status, 404);
  });

  it('namespaces terminate, then disappear with their objects', async () => {
    await h.call('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gone' } } });
    await h.call('POST', '/api/v1/namespaces/gone/configmaps', { body: cm('x') });
    const d = await h.call('DELETE', '/api/v1/namespaces/gone');
    assert.equal(d.json.kind, 'Namespace');
    assert.equal((d.json.status as Record<string, unknown>).phase, 'Terminating');
    const blocked = await h.call('POST', '/api/v1/namespaces/gone/configmaps', { body: cm('y') });
    assert.equal(blocked.status, 403);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await h.call('GET', '/api/v1/namespaces/gone')).status, 404);
    assert.equal((await h.call('GET', '/api/v1/namespaces/gone/configmaps/x')).status, 404);
  });
});
