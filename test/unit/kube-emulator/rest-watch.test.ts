import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Harness } from './rest-helpers.ts';
import { cm, harness } from './rest-helpers.ts';

describe('rest: watch', () => {
  let h: Harness;
  before(async () => (h = await harness({ controllers: false, bookmarkIntervalMs: 40 })));
  after(async () => h.close());

  it('RV unset: synthetic ADDED for existing objects, then live events', async () => {
    const ev = await h.watch('/api/v1/namespaces/dev/configmaps?watch=1&timeoutSeconds=2', 4, {
      during: async () => {
        await h.call('POST', '/api/v1/namespaces/dev/configmaps', { body: cm('w1') });
        await h.call('DELETE', '/api/v1/namespaces/dev/configmaps/w1');
      },
    });
    assert.deepEqual(ev.map((e) => e.type), ['ADDED', 'ADDED', 'ADDED', 'DELETED']);
    assert.equal((ev[2]!.object.metadata as Record<string, unknown>).name, 'w1');
  });

  it('replays history from a resourceVersion and filters by metadata.name', async () => {
    const rv = h.rest.store.resourceVersion();
    await h.call('POST', '/api/v1/namespaces/dev/configmaps', { body: cm('w2') });
    await h.call('POST', '/api/v1/namespaces/dev/configmaps', { body: cm('w3') });
    await h.call('PATCH', '/api/v1/namespaces/dev/configmaps/w2', { body: { data: { b: '2' } }, contentType: 'application/merge-patch+json' });
    const ev = await h.watch(`/api/v1/namespaces/dev/configmaps?watch=true&resourceVersion=${rv}&fieldSelector=metadata.name%3Dw2&timeoutSeconds=1`, 2);
    assert.deepEqual(ev.map((e) => e.type), ['ADDED', 'MODIFIED']);
  });

  it('too old resourceVersion → ERROR event with a 410 Expired Status', async () => {
    await h.call('POST', '/api/v1/namespaces/dev/configmaps', { body: cm('w4') });
    h.rest.store.history.compact(Number(h.rest.store.resourceVersion()));
    const ev = await h.watch('/api/v1/namespaces/dev/configmaps?watch=1&resourceVersion=1', 1);
    assert.equal(ev[0]!.type, 'ERROR');
    assert.equal(ev[0]!.object.code, 410);
    assert.equal(ev[0]!.object.reason, 'Expired');
    assert.match(String(ev[0]!.object.message), /^too old resource version: 1 \(\d+\)$/);
  });

  it('sends BOOKMARKs, and the initial-events-end bookmark for sendInitialEvents', async () => {
    const ev = await h.watch('/api/v1/namespaces/prod/secrets?watch=1&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=2', 4);
    assert.deepEqual(ev.map((e) => e.type), ['ADDED', 'ADDED', 'BOOKMARK', 'BOOKMARK']);
    const end = ev[2]!.object.metadata as { annotations?: Record<string, string>; resourceVersion: string };
    assert.equal(end.annotations?.['k8s.io/initial-events-end'], 'true');
    assert.equal(ev[2]!.object.kind, 'Secret');
    assert.match(end.resourceVersion, /^\d+$/);
  });

  it('legacy /watch/ paths and Table events (headers only on the first)', async () => {
    const ev = await h.watch('/api/v1/watch/namespaces/dev/pods?timeoutSeconds=1', 10, {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
    });
    assert.ok(ev.length >= 2);
    assert.equal(ev[0]!.object.kind, 'Table');
    assert.ok(Array.isArray(ev[0]!.object.columnDefinitions));
    assert.equal(ev[1]!.object.columnDefinitions, null);
  });

  it('honours timeoutSeconds', async () => {
    const t0 = Date.now();
    await h.watch(`/api/v1/namespaces/dev/services?watch=1&resourceVersion=${h.rest.store.resourceVersion()}&timeoutSeconds=1`, 100);
    assert.ok(Date.now() - t0 >= 900);
  });
});
