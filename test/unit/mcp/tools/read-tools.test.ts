import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listResources } from '../../../../src/protocols/mcp/tools/list-resources.ts';
import { getResource } from '../../../../src/protocols/mcp/tools/get-resource.ts';
import { describeResource } from '../../../../src/protocols/mcp/tools/describe-resource.ts';
import { podLogs } from '../../../../src/protocols/mcp/tools/pod-logs.ts';
import { listEvents } from '../../../../src/protocols/mcp/tools/list-events.ts';
import { call, fakeKube, status, text } from './fake-kube.ts';

const podTable = (rows: { ns: string; cells: unknown[] }[], meta: Record<string, unknown> = {}) => ({
  kind: 'Table',
  apiVersion: 'meta.k8s.io/v1',
  metadata: { resourceVersion: '42', ...meta },
  columnDefinitions: [
    { name: 'Name', type: 'string', format: 'name', description: '', priority: 0 },
    { name: 'Ready', type: 'string', format: '', description: '', priority: 0 },
    { name: 'Status', type: 'string', format: '', description: '', priority: 0 },
    { name: 'Restarts', type: 'string', format: '', description: '', priority: 0 },
    { name: 'Age', type: 'string', format: '', description: '', priority: 0 },
    { name: 'IP', type: 'string', format: '', description: '', priority: 1 },
  ],
  rows: rows.map((r) => ({ cells: r.cells, object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name: r.cells[0], namespace: r.ns } } })),
});

test('list_resources: GET the list with kubectl get\'s Table Accept header and the paging/selector query', async () => {
  const kube = fakeKube([{ body: podTable([{ ns: 'dev', cells: ['web-1', '1/1', 'Running', 0, '5m', '10.0.0.7'] }]) }]);
  await call(listResources, { resource: 'pods', namespace: 'dev', labelSelector: 'app=web', fieldSelector: 'status.phase=Running', limit: 20, continue: 'eyJ2IjoxfQ' }, kube);
  assert.deepEqual(kube.calls, [
    {
      method: 'GET',
      path: '/api/v1/namespaces/dev/pods',
      query: { limit: '20', labelSelector: 'app=web', fieldSelector: 'status.phase=Running', continue: 'eyJ2IjoxfQ' },
      headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
    },
  ]);
});

test('list_resources: group resources and cluster-wide lists get their paths; only limit by default', async () => {
  const kube = fakeKube(() => ({ body: podTable([]) }));
  await call(listResources, { apiVersion: 'apps/v1', resource: 'deployments' }, kube);
  await call(listResources, { resource: 'nodes' }, kube);
  assert.deepEqual(
    kube.calls.map((c) => [c.path, c.query]),
    [
      ['/apis/apps/v1/deployments', { limit: '100' }],
      ['/api/v1/nodes', { limit: '100' }],
    ],
  );
});

test('list_resources: the Table becomes aligned text like kubectl get; -o wide columns only when asked', async () => {
  const table = podTable([
    { ns: 'dev', cells: ['web-1', '1/1', 'Running', 0, '5m', '10.0.0.7'] },
    { ns: 'dev', cells: ['worker-long-name', '0/1', 'CrashLoopBackOff', 12, '2d', null] },
  ]);
  const r = await call(listResources, { resource: 'pods', namespace: 'dev' }, fakeKube([{ body: table }]));
  assert.equal(r.isError, undefined);
  assert.equal(
    text(r),
    [
      'NAME               READY   STATUS             RESTARTS   AGE',
      'web-1              1/1     Running            0          5m',
      'worker-long-name   0/1     CrashLoopBackOff   12         2d',
    ].join('\n'),
  );
  assert.deepEqual(r.structuredContent, {
    columns: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
    rows: [
      ['web-1', '1/1', 'Running', '0', '5m'],
      ['worker-long-name', '0/1', 'CrashLoopBackOff', '12', '2d'],
    ],
  });
  const wide = await call(listResources, { resource: 'pods', namespace: 'dev', wide: true }, fakeKube([{ body: table }]));
  assert.match(text(wide).split('\n')[0]!, /AGE {3}IP$/);
  assert.match(text(wide), /<none>$/m);
});

test('list_resources: across namespaces a NAMESPACE column comes first; a continued list says how to go on', async () => {
  const table = podTable(
    [
      { ns: 'dev', cells: ['web-1', '1/1', 'Running', 0, '5m'] },
      { ns: 'prod', cells: ['api-0', '1/1', 'Running', 1, '9d'] },
    ],
    { continue: 'eyJ2IjoibmV4dCJ9', remainingItemCount: 7 },
  );
  const r = await call(listResources, { resource: 'pods', limit: 2 }, fakeKube([{ body: table }]));
  const lines = text(r).split('\n');
  assert.equal(lines[0], 'NAMESPACE   NAME    READY   STATUS    RESTARTS   AGE');
  assert.equal(lines[2], 'prod        api-0   1/1     Running   1          9d');
  assert.equal(lines[3], 'More items exist (about 7 more): call list_resources again with the same arguments and continue: "eyJ2IjoibmV4dCJ9"');
  assert.equal(r.structuredContent?.continue, 'eyJ2IjoibmV4dCJ9');
  assert.equal(r.structuredContent?.remainingItemCount, 7);
});

test('list_resources: an answer that is not a Table falls back to the item names; an empty list says so', async () => {
  const list = { kind: 'FooList', apiVersion: 'x.io/v1', metadata: {}, items: [{ metadata: { name: 'a', namespace: 'dev' } }, { metadata: { name: 'b', namespace: 'dev' } }] };
  const r = await call(listResources, { apiVersion: 'x.io/v1', resource: 'foos', namespace: 'dev' }, fakeKube([{ body: list }]));
  assert.equal(text(r), 'NAME\na\nb');
  const empty = await call(listResources, { resource: 'pods', namespace: 'dev' }, fakeKube([{ body: podTable([]) }]));
  assert.equal(text(empty), 'No resources found in namespace dev.');
});

test('list_resources: a table larger than the text bound is cut at whole rows, with a note', async () => {
  const rows = Array.from({ length: 500 }, (_, i) => ({ ns: 'dev', cells: [`pod-${i}-${'x'.repeat(200)}`, '1/1', 'Running', 0, '1m'] }));
  const r = await call(listResources, { resource: 'pods', namespace: 'dev', limit: 500 }, fakeKube([{ body: podTable(rows) }]));
  const t = text(r);
  assert.ok(t.length <= 100_500, `text is ${t.length} characters`);
  assert.match(t, /\[truncated: \d+ more rows of this page were not shown; use a smaller limit or a selector\.\]/);
  assert.equal(r.structuredContent?.truncated, true);
  assert.ok((r.structuredContent?.rows as unknown[]).length < 500);
});

test('get_resource: GET the object as JSON; the text is the object as the gateway returned it, without managedFields', async () => {
  const obj = {
    kind: 'ConfigMap',
    apiVersion: 'v1',
    metadata: { name: 'cfg', namespace: 'dev', managedFields: [{ manager: 'kubectl' }] },
    data: { password: '***' },
  };
  const kube = fakeKube([{ body: obj }]);
  const r = await call(getResource, { resource: 'configmaps', namespace: 'dev', name: 'cfg' }, kube);
  assert.deepEqual(kube.calls, [{ method: 'GET', path: '/api/v1/namespaces/dev/configmaps/cfg', headers: { accept: 'application/json' } }]);
  assert.equal(text(r), '{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cfg","namespace":"dev"},"data":{"password":"***"}}\n(metadata.managedFields omitted)');
  assert.deepEqual(r.structuredContent, { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'cfg', namespace: 'dev' }, data: { password: '***' } });
});

test('get_resource: cluster-scoped and group paths', async () => {
  const kube = fakeKube(() => ({ body: { kind: 'X', metadata: { name: 'n' } } }));
  await call(getResource, { resource: 'nodes', name: 'node-1' }, kube);
  await call(getResource, { apiVersion: 'rbac.authorization.k8s.io/v1', resource: 'clusterroles', name: 'view' }, kube);
  assert.deepEqual(
    kube.calls.map((c) => c.path),
    ['/api/v1/nodes/node-1', '/apis/rbac.authorization.k8s.io/v1/clusterroles/view'],
  );
});

test('get_resource: a 404 quotes the Kubernetes message; a POLICY_DENIED 403 says the policy refused, quotes the gateway and says not to retry', async () => {
  const nf = await call(
    getResource,
    { resource: 'pods', namespace: 'dev', name: 'gone' },
    fakeKube([{ status: 404, body: status(404, 'NotFound', 'pods "gone" not found'), requestId: 'r-404' }]),
  );
  assert.equal(nf.isError, true);
  assert.equal(text(nf), 'FAILED: get pods/gone in namespace dev: the Kubernetes API answered 404 NotFound: pods "gone" not found\n(Sluice request id: r-404)');
  assert.doesNotMatch(text(nf), /policy/i);

  const denied = await call(
    getResource,
    { resource: 'secrets', namespace: 'prod', name: 'db' },
    fakeKube([
      {
        status: 403,
        sluiceError: 'POLICY_DENIED',
        requestId: 'r-403',
        body: status(403, 'Forbidden', 'no policy rule allows get secrets db in namespace prod for alice (request r-403)'),
      },
    ]),
  );
  assert.equal(denied.isError, true);
  const t = text(denied);
  assert.match(t, /^REFUSED by the organisation's access policy \(Sluice POLICY_DENIED\)/);
  assert.ok(t.includes('"no policy rule allows get secrets db in namespace prod for alice (request r-403)"'), t);
  assert.match(t, /Do not retry this action and do not try to reach the same result another way/);
  assert.match(t, /Tell the user/);
  assert.match(t, /Request id: r-403/);
  assert.deepEqual(denied.structuredContent, { status: 403, reason: 'Forbidden', requestId: 'r-403', sluiceError: 'POLICY_DENIED' });
  // A 403 of the cluster itself (RBAC) is not a Sluice policy refusal.
  const rbac = await call(getResource, { resource: 'secrets', namespace: 'prod', name: 'db' }, fakeKube([{ status: 403, body: status(403, 'Forbidden', 'secrets "db" is forbidden: User "alice" cannot get resource "secrets"') }]));
  assert.match(text(rbac), /^FAILED: get secrets\/db in namespace prod: the Kubernetes API answered 403 Forbidden: secrets "db" is forbidden/);
});

test('get_resource: approval outcomes are worded as an approver\'s decision', async () => {
  const r = await call(
    getResource,
    { resource: 'secrets', namespace: 'prod', name: 'db' },
    fakeKube([{ status: 403, sluiceError: 'APPROVAL_DENIED', body: status(403, 'Forbidden', 'denied by bob: not during the freeze') }]),
  );
  assert.match(text(r), /^REFUSED by an approver \(Sluice APPROVAL_DENIED\)/);
  assert.match(text(r), /"denied by bob: not during the freeze"/);
  const expired = await call(getResource, { resource: 'pods', namespace: 'prod', name: 'x' }, fakeKube([{ status: 403, sluiceError: 'APPROVAL_EXPIRED', body: status(403, 'Forbidden', 'not approved in time') }]));
  assert.match(text(expired), /no approver decided in time/);
  assert.match(text(expired), /Do not retry/);
});

test('get_resource: a large object is cut with a note', async () => {
  const r = await call(getResource, { resource: 'configmaps', namespace: 'dev', name: 'big' }, fakeKube([{ body: { kind: 'ConfigMap', metadata: { name: 'big' }, data: { x: 'y'.repeat(150_000) } } }]));
  assert.match(text(r), /\[truncated: \d+ more characters at the end were not shown\./);
  assert.equal(r.structuredContent, undefined);
});

const deployment = {
  kind: 'Deployment',
  apiVersion: 'apps/v1',
  metadata: { name: 'web', namespace: 'dev', uid: '0b1c-22', managedFields: [{ manager: 'x' }] },
  spec: { replicas: 2 },
};
const eventList = (items: unknown[]) => ({ kind: 'EventList', apiVersion: 'v1', metadata: {}, items });
const event = (reason: string, at: string, message: string, extra: Record<string, unknown> = {}) => ({
  metadata: { name: `web.${reason}`, namespace: 'dev' },
  involvedObject: { kind: 'Deployment', name: 'web', namespace: 'dev' },
  type: 'Normal',
  reason,
  message,
  lastTimestamp: at,
  count: 1,
  ...extra,
});

test('describe_resource: GET the object, then its events by involvedObject (kind, name, namespace, uid), like kubectl describe', async () => {
  const kube = fakeKube([
    { body: deployment },
    {
      body: eventList([
        event('ScalingReplicaSet', '2024-05-01T10:05:00Z', 'Scaled up replica set web-7d to 2'),
        event('Created', '2024-05-01T10:00:00Z', 'Created\nthing', { type: 'Warning', count: 3 }),
      ]),
    },
  ]);
  const r = await call(describeResource, { apiVersion: 'apps/v1', resource: 'deployments', namespace: 'dev', name: 'web' }, kube);
  assert.deepEqual(kube.calls, [
    { method: 'GET', path: '/apis/apps/v1/namespaces/dev/deployments/web', headers: { accept: 'application/json' } },
    {
      method: 'GET',
      path: '/api/v1/namespaces/dev/events',
      query: { fieldSelector: 'involvedObject.kind=Deployment,involvedObject.name=web,involvedObject.namespace=dev,involvedObject.uid=0b1c-22' },
      headers: { accept: 'application/json' },
    },
  ]);
  const t = text(r);
  assert.ok(t.startsWith('deployments.apps/web in namespace dev:\nkind: Deployment\napiVersion: apps/v1\n'), t);
  assert.doesNotMatch(t, /managedFields/);
  assert.match(t, /replicas: 2/);
  const events = t.slice(t.indexOf('Events:'));
  assert.equal(
    events,
    [
      'Events:',
      '  LAST SEEN              TYPE      REASON              OBJECT           COUNT   MESSAGE',
      '  2024-05-01T10:00:00Z   Warning   Created             deployment/web   3       Created thing',
      '  2024-05-01T10:05:00Z   Normal    ScalingReplicaSet   deployment/web   1       Scaled up replica set web-7d to 2',
    ].join('\n'),
  );
  assert.equal(r.isError, undefined);
  assert.equal(r.structuredContent?.eventCount, 2);
});

test('describe_resource: events the policy does not allow are reported as refused, the object is still shown', async () => {
  const kube = fakeKube([
    { body: { kind: 'Node', apiVersion: 'v1', metadata: { name: 'node-1' } } },
    { status: 403, sluiceError: 'POLICY_DENIED', body: status(403, 'Forbidden', 'no policy rule allows list events for carol') },
  ]);
  const r = await call(describeResource, { resource: 'nodes', name: 'node-1' }, kube);
  assert.equal(kube.calls[1]!.path, '/api/v1/events');
  assert.deepEqual(kube.calls[1]!.query, { fieldSelector: 'involvedObject.kind=Node,involvedObject.name=node-1,involvedObject.namespace=' });
  assert.equal(r.isError, undefined);
  assert.match(text(r), /name: node-1/);
  assert.match(text(r), /Events:\n {2}\(not shown\) REFUSED by the organisation's access policy/);
  assert.match(text(r), /"no policy rule allows list events for carol"/);
});

test('describe_resource: an object it may not read is a refusal, and no events are asked for', async () => {
  const kube = fakeKube([{ status: 403, sluiceError: 'POLICY_DENIED', body: status(403, 'Forbidden', 'denied by rule "no-secrets"') }]);
  const r = await call(describeResource, { resource: 'secrets', namespace: 'dev', name: 'db' }, kube);
  assert.equal(kube.calls.length, 1);
  assert.equal(r.isError, true);
  assert.match(text(r), /^REFUSED by the organisation's access policy/);
});

test('pod_logs: GET pods/{pod}/log with tailLines, limitBytes and the options given — never follow', async () => {
  const kube = fakeKube(() => ({ body: 'line 1\nline 2\n' }));
  await call(podLogs, { namespace: 'dev', pod: 'web-1' }, kube);
  await call(podLogs, { namespace: 'dev', pod: 'web-1', container: 'app', tailLines: 50, sinceSeconds: 600, previous: true, limitBytes: 4096 }, kube);
  assert.deepEqual(kube.calls, [
    { method: 'GET', path: '/api/v1/namespaces/dev/pods/web-1/log', query: { tailLines: '200', limitBytes: '262144' }, headers: { accept: 'text/plain, */*' } },
    {
      method: 'GET',
      path: '/api/v1/namespaces/dev/pods/web-1/log',
      query: { tailLines: '50', limitBytes: '4096', container: 'app', sinceSeconds: '600', previous: 'true' },
      headers: { accept: 'text/plain, */*' },
    },
  ]);
});

test('pod_logs: the log text, colour codes removed; a log that reached limitBytes says so; an empty log says so', async () => {
  const r = await call(podLogs, { namespace: 'dev', pod: 'web-1' }, fakeKube([{ body: '\u001b[32mINFO\u001b[0m started\nERROR boom\n' }]));
  assert.equal(text(r), 'INFO started\nERROR boom');
  const full = await call(podLogs, { namespace: 'dev', pod: 'web-1', limitBytes: 10 }, fakeKube([{ body: '0123456789' }]));
  assert.match(text(full), /\[the log reached limitBytes \(10 bytes\): later lines may be missing/);
  assert.equal(full.structuredContent?.limitReached, true);
  const empty = await call(podLogs, { namespace: 'dev', pod: 'web-1', container: 'app' }, fakeKube([{ body: '' }]));
  assert.equal(text(empty), 'The log of container app of pod web-1 in namespace dev is empty.');
});

test('pod_logs: a refusal names pods/log reading as the refused action', async () => {
  const r = await call(podLogs, { namespace: 'prod', pod: 'db-0' }, fakeKube([{ status: 403, sluiceError: 'POLICY_DENIED', body: status(403, 'Forbidden', 'no rule allows get pods/log') }]));
  assert.equal(r.isError, true);
  assert.match(text(r), /Action: read the log of pod db-0 in namespace prod\./);
});

test('list_events: GET events with limit and the involvedObject.name field selector; oldest first', async () => {
  const kube = fakeKube([
    {
      body: eventList([
        event('Pulled', '2024-05-01T10:02:00Z', 'pulled'),
        event('BackOff', '2024-05-01T10:09:00Z', 'Back-off restarting failed container', { type: 'Warning', metadata: { name: 'x', namespace: 'prod' } }),
        event('Scheduled', '2024-05-01T10:01:00Z', 'assigned'),
      ]),
    },
  ]);
  const r = await call(listEvents, { limit: 50, involvedObjectName: 'web' }, kube);
  assert.deepEqual(kube.calls, [{ method: 'GET', path: '/api/v1/events', query: { limit: '50', fieldSelector: 'involvedObject.name=web' }, headers: { accept: 'application/json' } }]);
  const lines = text(r).split('\n');
  assert.equal(lines[0], 'NAMESPACE   LAST SEEN              TYPE      REASON      OBJECT           COUNT   MESSAGE');
  assert.deepEqual(
    lines.slice(1).map((l) => l.split(/\s{2,}/)[3]),
    ['Scheduled', 'Pulled', 'BackOff'],
  );
  assert.match(lines[3]!, /^prod /);
  const ns = fakeKube([{ body: eventList([]) }]);
  const none = await call(listEvents, { namespace: 'dev' }, ns);
  assert.deepEqual(ns.calls[0]!.path, '/api/v1/namespaces/dev/events');
  assert.deepEqual(ns.calls[0]!.query, { limit: '100' });
  assert.equal(text(none), 'No events in namespace dev.');
});
