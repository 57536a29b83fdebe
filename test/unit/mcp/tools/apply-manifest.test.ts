import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApplyManifest, parseManifest } from '../../../../src/protocols/mcp/tools/apply-manifest.ts';
import { createDiscoveryCache } from '../../../../src/protocols/mcp/tools/discovery.ts';
import type { KubeCall } from '../../../../src/protocols/mcp/tool-types.ts';
import { call, fakeKube, status, text, type Answer } from './fake-kube.ts';

const appsV1 = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'apps/v1',
  resources: [
    { name: 'deployments', singularName: 'deployment', namespaced: true, kind: 'Deployment', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
    { name: 'deployments/scale', singularName: '', namespaced: true, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] },
    { name: 'deployments/status', singularName: '', namespaced: true, kind: 'Deployment', verbs: ['get', 'patch', 'update'] },
  ],
};
const coreV1 = {
  kind: 'APIResourceList',
  groupVersion: 'v1',
  resources: [
    { name: 'namespaces', namespaced: false, kind: 'Namespace', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
    { name: 'configmaps', namespaced: true, kind: 'ConfigMap', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
    { name: 'componentstatuses', namespaced: false, kind: 'ComponentStatus', verbs: ['get', 'list'] },
  ],
};

/** Answers discovery from the lists above and the PATCH with `patch`. */
function cluster(patch: (c: KubeCall) => Answer = (c) => ({ status: 201, body: { ...JSON.parse(c.body!), metadata: { ...JSON.parse(c.body!).metadata, resourceVersion: '7', uid: 'u1' } } })) {
  return fakeKube((c) => {
    if (c.method === 'GET' && c.path === '/apis/apps/v1') return { body: appsV1 };
    if (c.method === 'GET' && c.path === '/api/v1') return { body: coreV1 };
    if (c.method === 'GET') return { status: 404, body: status(404, 'NotFound', 'the server could not find the requested resource') };
    return patch(c);
  });
}

const deploymentYaml = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: dev
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: app
          image: nginx:1.27
`;

test('apply_manifest: discovery of the group/version, then a server-side apply PATCH of the validated object as JSON', async () => {
  const tool = createApplyManifest();
  const kube = cluster();
  const r = await call(tool, { manifest: deploymentYaml }, kube);
  assert.equal(kube.calls.length, 2);
  assert.deepEqual(kube.calls[0], { method: 'GET', path: '/apis/apps/v1', headers: { accept: 'application/json' } });
  const patch = kube.calls[1]!;
  assert.deepEqual({ ...patch, body: undefined }, {
    method: 'PATCH',
    path: '/apis/apps/v1/namespaces/dev/deployments/web',
    query: { fieldManager: 'sluice-mcp' },
    headers: { 'content-type': 'application/apply-patch+yaml', accept: 'application/json' },
    body: undefined,
  });
  assert.deepEqual(JSON.parse(patch.body!), {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'dev' },
    spec: { replicas: 2, template: { spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } } },
  });
  assert.equal(r.isError, undefined);
  assert.equal(text(r), 'Created: deployments.apps/web in namespace dev (resourceVersion 7).');
  assert.equal(r.structuredContent?.result, 'created');
});

test('apply_manifest: force and dryRun become force=true and dryRun=All; a dry run shows the object and says nothing changed', async () => {
  const kube = cluster((c) => ({ status: 200, body: { ...JSON.parse(c.body!), metadata: { name: 'web', namespace: 'dev', managedFields: [{}] } } }));
  const r = await call(createApplyManifest(), { manifest: deploymentYaml, force: true, dryRun: true }, kube);
  assert.deepEqual(kube.calls[1]!.query, { fieldManager: 'sluice-mcp', force: 'true', dryRun: 'All' });
  assert.match(text(r), /^Dry run, nothing was changed: would be applied: deployments\.apps\/web in namespace dev\.\nThe object as the API server would store it:\n\{"apiVersion":"apps\/v1"/);
  assert.doesNotMatch(text(r), /managedFields/);
});

test('apply_manifest: core kinds use /api/v1; a cluster-scoped kind has no namespace in its path', async () => {
  const kube = cluster((c) => ({ status: 200, body: JSON.parse(c.body!) }));
  await call(createApplyManifest(), { manifest: '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team-a"}}' }, kube);
  assert.deepEqual(kube.calls.map((c) => `${c.method} ${c.path}`), ['GET /api/v1', 'PATCH /api/v1/namespaces/team-a']);
});

test('apply_manifest: a namespaced object takes the namespace argument, which must agree with the manifest', async () => {
  const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: "1"\n';
  const kube = cluster((c) => ({ status: 200, body: JSON.parse(c.body!) }));
  await call(createApplyManifest(), { manifest: cm, namespace: 'dev' }, kube);
  assert.equal(kube.calls[1]!.path, '/api/v1/namespaces/dev/configmaps/cfg');
  assert.equal(JSON.parse(kube.calls[1]!.body!).metadata.namespace, 'dev');

  const none = cluster();
  const r = await call(createApplyManifest(), { manifest: cm }, none);
  assert.equal(r.isError, true);
  assert.match(text(r), /ConfigMap is namespaced; set metadata\.namespace or pass the namespace argument/);
  assert.ok(none.calls.every((c) => c.method === 'GET'), 'nothing was patched');

  const clash = cluster();
  const c2 = await call(createApplyManifest(), { manifest: deploymentYaml, namespace: 'prod' }, clash);
  assert.equal(c2.isError, true);
  assert.match(text(c2), /metadata\.namespace is dev but the namespace argument is prod/);
  assert.equal(clash.calls.length, 0);

  const clusterScoped = cluster();
  const c3 = await call(createApplyManifest(), { manifest: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: x}', namespace: 'dev' }, clusterScoped);
  assert.match(text(c3), /Namespace is cluster-scoped; do not pass a namespace/);
  assert.ok(clusterScoped.calls.every((c) => c.method === 'GET'));
});

test('apply_manifest: discovery answers are cached per connection and caller for a short time only', async () => {
  let now = 1_000;
  const tool = createApplyManifest({ discovery: createDiscoveryCache({ ttlMs: 30_000, now: () => now }) });
  const kube = cluster();
  await call(tool, { manifest: deploymentYaml }, kube);
  await call(tool, { manifest: deploymentYaml }, kube);
  assert.deepEqual(kube.calls.map((c) => c.method), ['GET', 'PATCH', 'PATCH'], 'the second apply reuses discovery');
  const other = cluster();
  Object.assign(other, { connection: 'prod' });
  await call(tool, { manifest: deploymentYaml }, other);
  assert.deepEqual(other.calls.map((c) => c.method), ['GET', 'PATCH'], 'another connection asks itself');
  const carol = cluster();
  Object.assign(carol, { caller: 'https://idp\u0000carol' });
  await call(tool, { manifest: deploymentYaml }, carol);
  assert.deepEqual(carol.calls.map((c) => c.method), ['GET', 'PATCH'], "another caller asks itself (policy may refuse them discovery): no one else's answer");
  now += 30_000;
  await call(tool, { manifest: deploymentYaml }, kube);
  assert.deepEqual(kube.calls.map((c) => c.method), ['GET', 'PATCH', 'PATCH', 'GET', 'PATCH'], 'an old answer is asked again');
});

test('apply_manifest: a failed discovery is not cached', async () => {
  let n = 0;
  const tool = createApplyManifest({ discovery: createDiscoveryCache({ now: () => 0 }) });
  const kube = fakeKube((c) => {
    if (c.method === 'GET') return n++ === 0 ? { status: 503, body: status(503, 'ServiceUnavailable', 'try later') } : { body: appsV1 };
    return { status: 200, body: JSON.parse(c.body!) };
  });
  const first = await call(tool, { manifest: deploymentYaml }, kube);
  assert.equal(first.isError, true);
  await call(tool, { manifest: deploymentYaml }, kube);
  assert.deepEqual(kube.calls.map((c) => c.method), ['GET', 'GET', 'PATCH']);
});

test('apply_manifest: unknown apiVersion, unknown kind and kinds without patch are refused before any PATCH', async () => {
  const kube = cluster();
  const gv = await call(createApplyManifest(), { manifest: 'apiVersion: nope.io/v1\nkind: Foo\nmetadata: {name: a, namespace: dev}' }, kube);
  assert.match(text(gv), /does not serve apiVersion nope\.io\/v1/);
  const kind = await call(createApplyManifest(), { manifest: 'apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: a, namespace: dev}' }, kube);
  assert.match(text(kind), /apiVersion apps\/v1 has no kind Deploymnet\. Its kinds: Deployment\.$/);
  const sub = await call(createApplyManifest(), { manifest: 'apiVersion: v1\nkind: ComponentStatus\nmetadata: {name: a}' }, kube);
  assert.match(text(sub), /does not offer patch/);
  for (const r of [gv, kind, sub]) assert.equal(r.isError, true);
  assert.ok(kube.calls.every((c) => c.method === 'GET'));
});

test('apply_manifest: a policy refusal of the PATCH is reported as a refusal; a field conflict suggests force only on request', async () => {
  const denied = await call(
    createApplyManifest(),
    { manifest: deploymentYaml },
    cluster(() => ({ status: 403, sluiceError: 'POLICY_DENIED', body: status(403, 'Forbidden', 'no policy rule allows patch deployments web in namespace dev for alice') })),
  );
  assert.equal(denied.isError, true);
  assert.match(text(denied), /^REFUSED by the organisation's access policy[^\n]*\nAction: apply deployments\.apps\/web in namespace dev\.\nSluice's message: "no policy rule allows patch/);
  assert.doesNotMatch(text(denied), /force/);

  const conflict = await call(
    createApplyManifest(),
    { manifest: deploymentYaml },
    cluster(() => ({ status: 409, body: status(409, 'Conflict', 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply": .spec.replicas') })),
  );
  assert.match(text(conflict), /409 Conflict: Apply failed with 1 conflict/);
  assert.match(text(conflict), /pass force: true only if the user wants Sluice to take them over/);

  const approval = await call(
    createApplyManifest(),
    { manifest: deploymentYaml },
    cluster(() => ({ status: 409, sluiceError: 'APPROVAL_CONFLICT', body: status(409, 'Conflict', 'approval a1 was spent by another attempt') })),
  );
  assert.match(text(approval), /^NOT DONE \(Sluice APPROVAL_CONFLICT\)/);
  assert.doesNotMatch(text(approval), /force/);
});

test('apply_manifest: multi-document input, lists and objects without apiVersion/kind/name are refused without a request', async () => {
  const bad: [string, string, RegExp][] = [
    ['two documents', `${deploymentYaml}---\n${deploymentYaml}`, /holds 2 documents; apply one object per call/],
    ['a List', 'apiVersion: v1\nkind: List\nmetadata: {name: x}\nitems: []', /holds several objects/],
    ['a DeploymentList', 'apiVersion: apps/v1\nkind: DeploymentList\nmetadata: {name: x}\nitems: []', /holds several objects/],
    ['no apiVersion', 'kind: ConfigMap\nmetadata: {name: x}', /apiVersion is missing/],
    ['bad apiVersion', 'apiVersion: ../v1\nkind: ConfigMap\nmetadata: {name: x}', /apiVersion is missing or not/],
    ['no kind', 'apiVersion: v1\nmetadata: {name: x}', /kind is missing/],
    ['no metadata', 'apiVersion: v1\nkind: ConfigMap', /metadata is missing/],
    ['generateName', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: x-}', /metadata\.name is missing/],
    ['traversal name', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ../../secrets/x}', /metadata\.name is not a DNS-1123 subdomain/],
    ['option-like name', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: -x}', /metadata\.name is not a DNS-1123 subdomain/],
    ['bad namespace', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: a/b}', /metadata\.namespace is not a DNS-1123 label/],
    ['duplicate key', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: "1", a: "2"}', /not valid YAML: Map keys must be unique/],
    ['a scalar', 'hello', /not an object/],
    ['an array', '[1, 2]', /not an object/],
    ['empty', '---\n', /it is empty/],
    ['bad YAML', 'apiVersion: v1\nkind: [', /not valid YAML/],
    ['alias bomb', 'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]', /could not be read|not valid YAML/],
    ['explicit binary tag', 'apiVersion: v1\nkind: Secret\nmetadata: {name: x}\ndata: {a: !!binary aGk=}', /not valid YAML: Unresolved tag/],
    ['infinity', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nspec: {a: .inf}', /not finite/],
    ['NUL byte', 'apiVersion: v1\u0000', /control characters/],
  ];
  for (const [why, manifest, expected] of bad) {
    const kube = cluster();
    const r = await call(createApplyManifest(), { manifest }, kube);
    assert.equal(r.isError, true, why);
    assert.match(text(r), /^The manifest was not applied: /, why);
    assert.match(text(r), expected, why);
    assert.equal(kube.calls.length, 0, `${why}: no request`);
  }
});

test('apply_manifest: YAML 1.1 scalars as the API server reads them (octal modes, yes/no); timestamps and 12:30 stay strings', () => {
  const r = parseManifest('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\nspec:\n  mode: 0644\n  on: yes\n  at: 2024-01-01\n  t: 12:30\n  q: "0644"\n');
  assert.ok('object' in r);
  assert.deepEqual(r.object.spec, { mode: 420, true: true, at: '2024-01-01', t: '12:30', q: '0644' });
  const json = parseManifest('{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "b"}}');
  assert.ok('object' in json);
  assert.deepEqual(json.object.data, { a: 'b' });
  const trailing = parseManifest('---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n');
  assert.ok('object' in trailing, 'a trailing separator is not a second object');
});
