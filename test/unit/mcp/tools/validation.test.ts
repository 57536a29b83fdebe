import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { SLUICE_TOOLS } from '../../../../src/protocols/mcp/tools/index.ts';
import { listResources } from '../../../../src/protocols/mcp/tools/list-resources.ts';
import { getResource } from '../../../../src/protocols/mcp/tools/get-resource.ts';
import { podLogs } from '../../../../src/protocols/mcp/tools/pod-logs.ts';
import { exec } from '../../../../src/protocols/mcp/tools/exec.ts';
import { patchResource } from '../../../../src/protocols/mcp/tools/patch-resource.ts';
import { deleteResource } from '../../../../src/protocols/mcp/tools/delete-resource.ts';
import { scale } from '../../../../src/protocols/mcp/tools/scale.ts';
import { listEvents } from '../../../../src/protocols/mcp/tools/list-events.ts';
import { applyManifest } from '../../../../src/protocols/mcp/tools/apply-manifest.ts';
import { problems } from './fake-kube.ts';

const pod = { namespace: 'dev', resource: 'pods', name: 'web-1' };

test('the catalogue: ten tools with unique names, strict inputs, a description on every field', () => {
  assert.deepEqual(
    SLUICE_TOOLS.map((t) => t.name),
    ['list_resources', 'get_resource', 'describe_resource', 'pod_logs', 'list_events', 'apply_manifest', 'patch_resource', 'scale', 'delete_resource', 'exec'],
  );
  for (const t of SLUICE_TOOLS) {
    const schema = z.toJSONSchema(t.input, { io: 'input' }) as { additionalProperties?: unknown; properties: Record<string, { description?: string }> };
    assert.equal(schema.additionalProperties, false, `${t.name} accepts unknown keys`);
    for (const [k, p] of Object.entries(schema.properties)) assert.ok(p.description && p.description.length > 10, `${t.name}.${k} has no description`);
    assert.ok(!('connection' in schema.properties), `${t.name} declares connection itself`);
    assert.ok(t.reach.verbs.length > 0, `${t.name} has no reach`);
    assert.ok(t.description.length > 40 && t.title.length > 0);
    // The endpoint adds `connection` with .extend(): no refinement may stop it.
    assert.doesNotThrow(() => t.input.extend({ connection: z.string() }));
  }
});

test('annotations and reach: reads are read-only, writes and exec destructive; exec and logs name their subresource', () => {
  const byName = new Map(SLUICE_TOOLS.map((t) => [t.name, t]));
  for (const n of ['list_resources', 'get_resource', 'describe_resource', 'pod_logs', 'list_events']) {
    assert.equal(byName.get(n)!.annotations.readOnlyHint, true, n);
    assert.notEqual(byName.get(n)!.annotations.destructiveHint, true, n);
  }
  for (const n of ['apply_manifest', 'patch_resource', 'scale', 'delete_resource', 'exec']) {
    assert.equal(byName.get(n)!.annotations.readOnlyHint, false, n);
    assert.equal(byName.get(n)!.annotations.destructiveHint, true, n);
  }
  assert.deepEqual(byName.get('exec')!.reach, { verbs: ['create', 'get'], resource: 'pods/exec' });
  assert.deepEqual(byName.get('pod_logs')!.reach, { verbs: ['get'], resource: 'pods/log' });
  assert.deepEqual(byName.get('list_events')!.reach, { verbs: ['list'], resource: 'events' });
  assert.deepEqual(byName.get('delete_resource')!.reach.verbs, ['delete']);
  assert.deepEqual(byName.get('apply_manifest')!.reach.verbs, ['patch']);
  assert.deepEqual(byName.get('describe_resource')!.reach.verbs, ['get', 'list']);
});

test('valid arguments pass, with their defaults', () => {
  assert.deepEqual(problems(getResource, pod), []);
  assert.deepEqual(listResources.input.parse({ resource: 'pods' }), { apiVersion: 'v1', resource: 'pods', limit: 100, wide: false });
  assert.deepEqual(problems(getResource, { ...pod, apiVersion: 'apps/v1', resource: 'deployments', name: 'my.app-1' }), []);
  assert.deepEqual(problems(getResource, { ...pod, apiVersion: 'networking.k8s.io/v1', resource: 'ingresses' }), []);
  assert.deepEqual(problems(getResource, { ...pod, apiVersion: 'stable.example.com/v1beta1', resource: 'crontabs' }), []);
  assert.deepEqual(problems(listResources, { resource: 'pods', labelSelector: 'app=web,tier!=cache,env in (dev,staging),!canary', fieldSelector: 'status.phase=Running,spec.nodeName=node-1' }), []);
  assert.deepEqual(problems(exec, { namespace: 'dev', pod: 'web-1', command: ['ls', '-la', '/tmp'] }), []);
  assert.deepEqual(scale.input.parse({ namespace: 'dev', name: 'web', replicas: 0 }), { apiVersion: 'apps/v1', resource: 'deployments', namespace: 'dev', name: 'web', replicas: 0 });
});

test('unknown keys are refused (connection too: the endpoint adds it, not the tool)', () => {
  assert.ok(problems(getResource, { ...pod, extra: 1 }).length > 0);
  assert.ok(problems(getResource, { ...pod, connection: 'prod' }).length > 0);
  assert.ok(problems(listEvents, { namespace: 'dev', follow: true }).length > 0);
  assert.ok(problems(podLogs, { namespace: 'dev', pod: 'web', follow: true }).length > 0, 'pod_logs has no follow');
  assert.ok(problems(exec, { namespace: 'dev', pod: 'web', command: ['ls'], tty: true }).length > 0);
  assert.ok(problems(exec, { namespace: 'dev', pod: 'web', command: ['ls'], stdin: 'x' }).length > 0);
});

test('names, namespaces and resources follow their grammar: traversal, separators and option-like values are refused', () => {
  const bad: [string, Record<string, unknown>][] = [
    ['../ name', { ...pod, name: '../secrets' }],
    ['.. name', { ...pod, name: '..' }],
    ['. name', { ...pod, name: '.' }],
    ['slash in name', { ...pod, name: 'web/exec' }],
    ['encoded slash', { ...pod, name: 'web%2Fexec' }],
    ['query in name', { ...pod, name: 'web?watch=1' }],
    ['upper case', { ...pod, name: 'Web' }],
    ['option-like name', { ...pod, name: '-rf' }],
    ['newline', { ...pod, name: 'web\nx' }],
    ['NUL', { ...pod, name: 'web\u0000' }],
    ['empty name', { ...pod, name: '' }],
    ['long name', { ...pod, name: 'a'.repeat(254) }],
    ['namespace with dot', { ...pod, namespace: 'kube.system' }],
    ['option-like namespace', { ...pod, namespace: '-n' }],
    ['namespace traversal', { ...pod, namespace: '..' }],
    ['resource with subresource', { ...pod, resource: 'pods/exec' }],
    ['resource watch', { ...pod, resource: 'watch' }],
    ['resource proxy', { ...pod, resource: 'proxy' }],
    ['resource Kind', { ...pod, resource: 'Pod' }],
    ['apiVersion without version', { ...pod, apiVersion: 'apps' }],
    ['apiVersion traversal', { ...pod, apiVersion: '../v1' }],
    ['apiVersion three parts', { ...pod, apiVersion: 'apps/v1/x' }],
    ['apiVersion option-like', { ...pod, apiVersion: '-v1' }],
    ['core version not vN', { ...pod, apiVersion: 'foo' }],
  ];
  for (const [why, args] of bad) assert.ok(problems(getResource, args).length > 0, `${why} was accepted`);
});

test('selectors and tokens: strict character set, no leading "-", bounded', () => {
  for (const labelSelector of ['-app=web', 'app=web;rm', 'app=web\n', 'app=$(id)', 'a'.repeat(1025), 'app="x"']) {
    assert.ok(problems(listResources, { resource: 'pods', labelSelector }).length > 0, JSON.stringify(labelSelector));
  }
  for (const fieldSelector of ['-x', 'a=b c', 'a=b&watch=true', 'a=b#']) {
    assert.ok(problems(listResources, { resource: 'pods', fieldSelector }).length > 0, fieldSelector);
  }
  assert.ok(problems(listResources, { resource: 'pods', continue: '-abc' }).length > 0);
  assert.ok(problems(listResources, { resource: 'pods', continue: 'abc&x=1' }).length > 0);
  assert.deepEqual(problems(listResources, { resource: 'pods', continue: 'eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTJ9' }), []);
});

test('numbers are bounded integers', () => {
  assert.ok(problems(listResources, { resource: 'pods', limit: 0 }).length > 0);
  assert.ok(problems(listResources, { resource: 'pods', limit: 501 }).length > 0);
  assert.ok(problems(listResources, { resource: 'pods', limit: 1.5 }).length > 0);
  assert.ok(problems(podLogs, { namespace: 'dev', pod: 'web', tailLines: 5001 }).length > 0);
  assert.ok(problems(podLogs, { namespace: 'dev', pod: 'web', limitBytes: 1_048_577 }).length > 0);
  assert.ok(problems(podLogs, { namespace: 'dev', pod: 'web', sinceSeconds: 0 }).length > 0);
  assert.ok(problems(scale, { namespace: 'dev', name: 'web', replicas: 10_001 }).length > 0);
  assert.ok(problems(scale, { namespace: 'dev', name: 'web', replicas: -1 }).length > 0);
  assert.ok(problems(exec, { namespace: 'dev', pod: 'web', command: ['ls'], timeoutSeconds: 301 }).length > 0);
  assert.ok(problems(deleteResource, { ...pod, apiVersion: 'v1', gracePeriodSeconds: -1 }).length > 0);
  assert.ok(problems(deleteResource, { ...pod, apiVersion: 'v1', propagationPolicy: 'foreground' }).length > 0);
});

test('exec: the program is not option-like, no control characters, bounded argv', () => {
  const base = { namespace: 'dev', pod: 'web-1' };
  assert.ok(problems(exec, { ...base, command: [] }).length > 0);
  assert.ok(problems(exec, { ...base, command: ['--help'] }).length > 0);
  assert.ok(problems(exec, { ...base, command: ['-c', 'id'] }).length > 0);
  assert.ok(problems(exec, { ...base, command: ['sh', '-c', 'id\nrm -rf /'] }).length > 0);
  assert.ok(problems(exec, { ...base, command: ['cat', 'a\u0000b'] }).length > 0);
  assert.ok(problems(exec, { ...base, command: ['echo', ''] }).length > 0);
  assert.ok(problems(exec, { ...base, command: Array.from({ length: 65 }, () => 'x') }).length > 0);
  assert.ok(problems(exec, { ...base, command: ['echo', 'x'.repeat(4097)] }).length > 0);
  assert.ok(problems(exec, { ...base, command: ['echo', ...Array.from({ length: 5 }, () => 'x'.repeat(4000))] }).length > 0);
  assert.ok(problems(exec, { ...base, command: 'ls -la' }).length > 0, 'a string is not an argv');
});

test('writes: apiVersion is required (no default), patch bodies have their shape', () => {
  assert.ok(problems(deleteResource, pod).length > 0);
  assert.ok(problems(patchResource, { ...pod, patchType: 'merge', patch: { a: 1 } }).length > 0);
  assert.deepEqual(problems(patchResource, { ...pod, apiVersion: 'v1', patchType: 'merge', patch: { metadata: { labels: { a: 'b' } } } }), []);
  assert.deepEqual(problems(patchResource, { ...pod, apiVersion: 'v1', patchType: 'json', patch: [{ op: 'replace', path: '/spec/replicas', value: 3 }] }), []);
  assert.ok(problems(patchResource, { ...pod, apiVersion: 'v1', patchType: 'json', patch: [{ op: 'evil', path: '/x' }] }).length > 0);
  assert.ok(problems(patchResource, { ...pod, apiVersion: 'v1', patchType: 'json', patch: [{ op: 'add', path: 'no-slash', value: 1 }] }).length > 0);
  assert.ok(problems(patchResource, { ...pod, apiVersion: 'v1', patchType: 'json', patch: [] }).length > 0);
  assert.ok(problems(patchResource, { ...pod, apiVersion: 'v1', patchType: 'yaml', patch: {} }).length > 0);
  assert.ok(problems(patchResource, { ...pod, apiVersion: 'v1', patchType: 'merge', patch: 'spec: {}' }).length > 0);
  assert.ok(problems(applyManifest, { manifest: '' }).length > 0);
  assert.ok(problems(applyManifest, { manifest: 'x'.repeat(1_048_577) }).length > 0);
});
