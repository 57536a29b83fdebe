import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseLabelSelector, matchLabels } from '../../../testing/kube-emulator/rest/labels.ts';
import type { Harness } from './rest-helpers.ts';
import { cm, harness } from './rest-helpers.ts';

const names = (r: { json: Record<string, unknown> }) => (r.json.items as { metadata: { name: string } }[]).map((i) => i.metadata.name);
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

describe('rest: selectors, pagination, Table', () => {
  let h: Harness;
  before(async () => (h = await harness({ controllers: false })));
  after(async () => h.close());

  it('parses label selectors like apimachinery', () => {
    const l = { app: 'web', tier: 'front' };
    const m = (s: string) => matchLabels(parseLabelSelector(s), l);
    assert.ok(m('app=web'));
    assert.ok(m('app==web,tier'));
    assert.ok(m('app!=db'));
    assert.ok(m('app in (web, db)'));
    assert.ok(!m('app notin (web)'));
    assert.ok(m('!missing'));
    assert.ok(!m('!app'));
    assert.throws(() => parseLabelSelector('app in web'), /expected: '\('/);
  });

  it('filters lists by label and field selectors; unsupported fields are 400', async () => {
    const web = await h.call('GET', '/api/v1/namespaces/dev/pods?labelSelector=app%20in%20(web,db)');
    assert.equal(names(web).length, 3);
    assert.equal((web.json.items as Record<string, unknown>[])[0]!.kind, undefined, 'built-in list items carry no TypeMeta');
    const running = await h.call('GET', '/api/v1/pods?fieldSelector=status.phase%3DRunning,metadata.namespace%3Dprod');
    assert.equal(names(running).length, 4);
    const byName = await h.call('GET', '/api/v1/namespaces/dev/pods?fieldSelector=metadata.name%3Ddb-0');
    assert.deepEqual(names(byName), ['db-0']);
    const sec = await h.call('GET', '/api/v1/namespaces/dev/secrets?fieldSelector=type%3DOpaque');
    assert.deepEqual(names(sec), ['db-credentials']);
    const bad = await h.call('GET', '/api/v1/namespaces/dev/pods?fieldSelector=spec.bogus%3Dx');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.message, 'field label not supported: spec.bogus');
    const badLabel = await h.call('GET', '/api/v1/namespaces/dev/pods?labelSelector=app%20in%20web');
    assert.equal(badLabel.status, 400);
  });

  it('pages with limit and continue', async () => {
    const p1 = await h.call('GET', '/api/v1/namespaces/dev/pods?limit=2');
    const m1 = p1.json.metadata as { continue?: string; remainingItemCount?: number; resourceVersion: string };
    assert.equal(names(p1).length, 2);
    assert.equal(m1.remainingItemCount, 2);
    assert.ok(m1.continue);
    const p2 = await h.call('GET', `/api/v1/namespaces/dev/pods?limit=2&continue=${m1.continue}`);
    const m2 = p2.json.metadata as { continue?: string; resourceVersion: string };
    assert.equal(names(p2).length, 2);
    assert.equal(m2.continue, undefined);
    assert.equal(m2.resourceVersion, m1.resourceVersion);
    assert.equal(new Set([...names(p1), ...names(p2)]).size, 4);
    const bad = await h.call('GET', '/api/v1/namespaces/dev/pods?limit=2&continue=garbage');
    assert.equal(bad.status, 400);
  });

  it('lists at an exact resourceVersion from history, 410 when compacted', async () => {
    const before = await h.call('GET', '/api/v1/namespaces/default/configmaps');
    const rv = (before.json.metadata as { resourceVersion: string }).resourceVersion;
    await h.call('POST', '/api/v1/namespaces/default/configmaps', { body: cm('later') });
    const exact = await h.call('GET', `/api/v1/namespaces/default/configmaps?resourceVersion=${rv}&resourceVersionMatch=Exact`);
    assert.deepEqual(names(exact), names(before));
    const latest = await h.call('GET', `/api/v1/namespaces/default/configmaps?resourceVersion=${rv}&resourceVersionMatch=NotOlderThan`);
    assert.ok(names(latest).includes('later'));
    h.rest.store.history.compact(Number(h.rest.store.resourceVersion()));
    const gone = await h.call('GET', `/api/v1/namespaces/default/configmaps?resourceVersion=${rv}&resourceVersionMatch=Exact`);
    assert.equal(gone.status, 410);
    assert.equal(gone.json.reason, 'Expired');
    const noRv = await h.call('GET', '/api/v1/namespaces/default/configmaps?resourceVersionMatch=Exact');
    assert.equal(noRv.status, 422);
  });

  it('answers as=Table with column definitions and PartialObjectMetadata rows', async () => {
    const t = await h.call('GET', '/api/v1/namespaces/dev/pods', { accept: TABLE });
    assert.equal(t.json.kind, 'Table');
    assert.equal(t.json.apiVersion, 'meta.k8s.io/v1');
    const cols = (t.json.columnDefinitions as { name: string; priority: number }[]).map((c) => c.name);
    assert.deepEqual(cols.slice(0, 5), ['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    const row = (t.json.rows as { cells: unknown[]; object: Record<string, unknown> }[])[0]!;
    assert.equal(row.cells[1], '1/1');
    assert.equal(row.cells[2], 'Running');
    assert.equal(row.cells[3], '0');
    assert.equal(row.object.kind, 'PartialObjectMetadata');
    assert.ok((t.json.metadata as Record<string, unknown>).resourceVersion);
    const one = await h.call('GET', '/api/v1/namespaces/dev/pods/db-0?includeObject=Object', { accept: TABLE });
    assert.equal(((one.json.rows as { object: Record<string, unknown> }[])[0]!.object).kind, 'Pod');
    const beta = await h.call('GET', '/api/v1/namespaces/dev/configmaps', { accept: 'application/json;as=Table;v=v1beta1;g=meta.k8s.io' });
    assert.equal(beta.json.apiVersion, 'meta.k8s.io/v1beta1');
  });
});
