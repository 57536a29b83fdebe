import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findResource } from '../../../testing/kube-emulator/resources.ts';
import { EventHistory, ObjectStore } from '../../../testing/kube-emulator/store/index.ts';
import { StatusError } from '../../../testing/kube-emulator/status.ts';

const ns = findResource('', 'v1', 'namespaces')!;
const deploys = findResource('apps', 'v1', 'deployments')!;

describe('store: ObjectStore and EventHistory', () => {
  it('ring buffer keeps the last N events and records the compacted revision', () => {
    const h = new EventHistory(3);
    for (let rv = 1; rv <= 5; rv++) h.push({ type: 'ADDED', key: 'k', namespace: undefined, rv, object: { apiVersion: 'v1', kind: 'X', metadata: {} } });
    assert.deepEqual(h.since(0).map((e) => e.rv), [3, 4, 5]);
    assert.equal(h.compactedRV, 2);
  });

  it('one global monotonically increasing resourceVersion; generation bumps on spec changes only', () => {
    const s = new ObjectStore();
    s.create(ns, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } });
    const d = s.create(deploys, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'a' }, spec: { replicas: 1 } });
    assert.equal(d.metadata.generation, 1);
    assert.equal(d.metadata.resourceVersion, '2');
    const l = s.update(deploys, { ...d, metadata: { ...d.metadata, labels: { x: 'y' } } });
    assert.equal(l.metadata.generation, 1);
    const u = s.update(deploys, { ...l, spec: { replicas: 2 } });
    assert.equal(u.metadata.generation, 2);
    assert.equal(u.metadata.resourceVersion, '4');
    assert.throws(() => s.update(deploys, { ...u, metadata: { ...u.metadata, resourceVersion: '2' } }), (e: unknown) => e instanceof StatusError && e.status.code === 409);
    s.close();
  });

  it('watch replays after a revision and refuses compacted ones with 410 Expired', () => {
    const s = new ObjectStore({ historySize: 2 });
    for (const name of ['a', 'b', 'c']) s.create(ns, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    const seen: string[] = [];
    const w = s.watch(ns, undefined, 2, (e) => seen.push(`${e.type}:${e.object.metadata.name ?? ''}`));
    assert.deepEqual(seen, ['ADDED:c']);
    w.stop();
    assert.throws(() => s.watch(ns, undefined, 0, () => {}), (e: unknown) => e instanceof StatusError && e.status.code === 410 && e.status.reason === 'Expired');
    s.close();
  });

  it('creating in a missing namespace is 404 namespaces "x" not found', () => {
    const s = new ObjectStore();
    assert.throws(
      () => s.create(deploys, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'nope' } }),
      (e: unknown) => e instanceof StatusError && e.status.message === 'namespaces "nope" not found',
    );
    s.close();
  });
});
