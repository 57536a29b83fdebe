/**
 * Fail closed on the audit trail (SECURITY.md "Principles"): when the store cannot take a
 * record, a write is refused before it reaches the cluster, and a read's response is withheld —
 * no response is ever released without a durable record.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKubectl } from '../../testing/harness/index.ts';
import { findResource } from '../../testing/kube-emulator/resources.ts';
import { startGatewayWorld, type GatewayWorld } from '../../testing/harness/gateway-world.ts';

let dir: string;
let world: GatewayWorld;
let kubeconfig: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-failclosed-'));
  world = await startGatewayWorld({ dir });
  kubeconfig = await world.kubeconfigFor('bob');
  // Warm kubectl's discovery cache while the trail works, then take the store away.
  const ok = await runKubectl({ version: '1.33', kubeconfig, args: ['get', 'pods', '-n', 'dev', '-o', 'name'] });
  assert.equal(ok.code, 0, ok.stderr);
  await world.store.close();
});
after(async () => {
  await world?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a write is refused with 503 and never reaches the cluster when the audit store is down', async () => {
  const before = world.emulator.requests.length;
  const r = await runKubectl({ version: '1.33', kubeconfig, args: ['create', 'configmap', 'unaudited', '-n', 'dev', '--from-literal=a=b'] });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /audit trail is unavailable, so the request was not forwarded/);
  const writes = world.emulator.requests.slice(before).filter((q) => q.method !== 'GET');
  assert.deepEqual(writes.map((q) => `${q.method} ${q.url}`), []);
  assert.equal(world.emulator.store.get(findResource('', 'v1', 'configmaps')!, 'dev', 'unaudited'), undefined);
});

test("a read's response is withheld (503) when its record cannot be made durable", async () => {
  const r = await runKubectl({ version: '1.27', kubeconfig, args: ['get', 'pod', 'db-0', '-n', 'dev', '-o', 'json'] });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /audit trail is unavailable, so the response was withheld/);
  assert.doesNotMatch(r.stdout, /db-0/, 'no pod data reached the client');
});

test('exec is refused before the upgrade when the audit store is down', async () => {
  const before = world.emulator.requests.length;
  const alice = await world.kubeconfigFor('alice');
  const r = await runKubectl({ version: '1.33', kubeconfig: alice, args: ['exec', 'db-0', '-n', 'dev', '--', 'echo', 'hi'] });
  assert.notEqual(r.code, 0);
  assert.doesNotMatch(r.stdout, /hi/);
  assert.equal(world.emulator.requests.slice(before).filter((q) => q.url.includes('/exec')).length, 0);
});
