import { test } from 'node:test';
import assert from 'node:assert/strict';
import { patchResource } from '../../../../src/protocols/mcp/tools/patch-resource.ts';
import { scale } from '../../../../src/protocols/mcp/tools/scale.ts';
import { deleteResource } from '../../../../src/protocols/mcp/tools/delete-resource.ts';
import { call, fakeKube, status, text } from './fake-kube.ts';

const web = { apiVersion: 'apps/v1', resource: 'deployments', namespace: 'dev', name: 'web' };
const returned = { kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name: 'web', namespace: 'dev', resourceVersion: '12', generation: 3 } };

test('patch_resource: PATCH with the content type of each patch type and the patch as JSON', async () => {
  const kube = fakeKube(() => ({ body: returned }));
  await call(patchResource, { ...web, patchType: 'merge', patch: { metadata: { labels: { tier: 'web' } } } }, kube);
  await call(patchResource, { ...web, patchType: 'strategic', patch: { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:2' }] } } } } }, kube);
  await call(patchResource, { ...web, patchType: 'json', patch: [{ op: 'replace', path: '/spec/replicas', value: 3 }], dryRun: true }, kube);
  const h = (ct: string) => ({ 'content-type': ct, accept: 'application/json' });
  assert.deepEqual(kube.calls, [
    { method: 'PATCH', path: '/apis/apps/v1/namespaces/dev/deployments/web', headers: h('application/merge-patch+json'), body: '{"metadata":{"labels":{"tier":"web"}}}' },
    {
      method: 'PATCH',
      path: '/apis/apps/v1/namespaces/dev/deployments/web',
      headers: h('application/strategic-merge-patch+json'),
      body: '{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:2"}]}}}}',
    },
    {
      method: 'PATCH',
      path: '/apis/apps/v1/namespaces/dev/deployments/web',
      query: { dryRun: 'All' },
      headers: h('application/json-patch+json'),
      body: '[{"op":"replace","path":"/spec/replicas","value":3}]',
    },
  ]);
});

test('patch_resource: the patch must fit its type; nothing is sent otherwise', async () => {
  const kube = fakeKube([]);
  const list = await call(patchResource, { ...web, patchType: 'merge', patch: [{ op: 'remove', path: '/spec' }] }, kube);
  const obj = await call(patchResource, { ...web, patchType: 'json', patch: { spec: {} } }, kube);
  assert.equal(list.isError, true);
  assert.match(text(list), /needs patchType json/);
  assert.equal(obj.isError, true);
  assert.match(text(obj), /a json patch is a list of operations/);
  assert.equal(kube.calls.length, 0);
});

test('patch_resource: the result names the object and its new resourceVersion; errors quote Kubernetes', async () => {
  const ok = await call(patchResource, { ...web, patchType: 'merge', patch: { spec: { paused: true } } }, fakeKube([{ body: returned }]));
  assert.equal(text(ok), 'Patched: deployments.apps/web in namespace dev (resourceVersion 12, generation 3).');
  assert.deepEqual(ok.structuredContent, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'dev', resourceVersion: '12', generation: 3, result: 'patched', dryRun: false });
  const crd = await call(
    patchResource,
    { apiVersion: 'x.io/v1', resource: 'foos', namespace: 'dev', name: 'a', patchType: 'strategic', patch: { spec: {} } },
    fakeKube([{ status: 415, body: status(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format') }]),
  );
  assert.match(text(crd), /answered 415 UnsupportedMediaType: the body of the request was in an unknown format\nStrategic merge patches work on built-in kinds only/);
});

test('scale: a merge patch of the scale subresource, like kubectl scale', async () => {
  const kube = fakeKube([{ body: { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'web', namespace: 'dev', resourceVersion: '13' }, spec: { replicas: 5 }, status: { replicas: 2 } } }]);
  const r = await call(scale, { namespace: 'dev', name: 'web', replicas: 5 }, kube);
  assert.deepEqual(kube.calls, [
    {
      method: 'PATCH',
      path: '/apis/apps/v1/namespaces/dev/deployments/web/scale',
      headers: { 'content-type': 'application/merge-patch+json', accept: 'application/json' },
      body: '{"spec":{"replicas":5}}',
    },
  ]);
  assert.equal(text(r), 'Scaled to 5 replicas: deployments.apps/web in namespace dev (resourceVersion 13).\nIt has 2 replicas now; its controller moves it to 5.');
  const sts = fakeKube([{ body: {} }]);
  await call(scale, { resource: 'statefulsets', namespace: 'db', name: 'pg', replicas: 0 }, sts);
  assert.equal(sts.calls[0]!.path, '/apis/apps/v1/namespaces/db/statefulsets/pg/scale');
  assert.equal(sts.calls[0]!.body, '{"spec":{"replicas":0}}');
});

test('scale: a review rule whose approval expired is not retried', async () => {
  const r = await call(scale, { namespace: 'prod', name: 'web', replicas: 0 }, fakeKube([{ status: 403, sluiceError: 'APPROVAL_EXPIRED', requestId: 'r9', body: status(403, 'Forbidden', 'approval a7 expired after 10m') }]));
  assert.equal(r.isError, true);
  assert.match(text(r), /^NOT DONE \(Sluice APPROVAL_EXPIRED\)/);
  assert.match(text(r), /Action: scale deployments\.apps\/web in namespace prod to 0 replicas\./);
  assert.match(text(r), /"approval a7 expired after 10m" Request id: r9\./);
});

test('delete_resource: DELETE without a body by default; options as a DeleteOptions body', async () => {
  const kube = fakeKube(() => ({ body: { kind: 'Status', apiVersion: 'v1', status: 'Success', details: { name: 'web-1', kind: 'pods' } } }));
  const plain = await call(deleteResource, { apiVersion: 'v1', resource: 'pods', namespace: 'dev', name: 'web-1' }, kube);
  await call(deleteResource, { ...web, propagationPolicy: 'Foreground', gracePeriodSeconds: 0, dryRun: true }, kube);
  assert.deepEqual(kube.calls, [
    { method: 'DELETE', path: '/api/v1/namespaces/dev/pods/web-1', headers: { accept: 'application/json' } },
    {
      method: 'DELETE',
      path: '/apis/apps/v1/namespaces/dev/deployments/web',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: '{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Foreground","gracePeriodSeconds":0,"dryRun":["All"]}',
    },
  ]);
  assert.equal(text(plain), 'Deleted pods/web-1 in namespace dev.');
});

test('delete_resource: dry runs, finalizers and graceful deletion are told apart; a refusal is a refusal', async () => {
  const dry = await call(deleteResource, { ...web, dryRun: true }, fakeKube([{ body: returned }]));
  assert.equal(text(dry), 'Dry run, nothing was deleted: deployments.apps/web in namespace dev would be deleted.');
  const pending = await call(
    deleteResource,
    { apiVersion: 'v1', resource: 'namespaces', name: 'team-a' },
    fakeKube([{ body: { kind: 'Namespace', metadata: { name: 'team-a', deletionTimestamp: '2024-05-01T10:00:00Z', finalizers: ['kubernetes'] } } }]),
  );
  assert.equal(text(pending), 'Deletion of namespaces/team-a has started: the object is marked for deletion and goes away once its finalizers (kubernetes) have run.');
  assert.equal(pending.structuredContent?.result, 'deleting');
  const denied = await call(deleteResource, web, fakeKube([{ status: 403, sluiceError: 'POLICY_DENIED', body: status(403, 'Forbidden', 'rule "no-deletes-in-prod" denies delete') }]));
  assert.equal(denied.isError, true);
  assert.match(text(denied), /REFUSED by the organisation's access policy/);
  assert.ok(text(denied).includes('Sluice\'s message: "rule "no-deletes-in-prod" denies delete"'), text(denied));
  const nf = await call(deleteResource, web, fakeKube([{ status: 404, body: status(404, 'NotFound', 'deployments.apps "web" not found') }]));
  assert.equal(text(nf), 'FAILED: delete deployments.apps/web in namespace dev: the Kubernetes API answered 404 NotFound: deployments.apps "web" not found');
});
