/**
 * No write of an MCP tool call is forwarded before the call's own record is durable
 * (InternalCaller.recorded, awaited in record-decision.ts), so the trail never holds a change
 * whose call it lacks. Found by the issue #7 review: the call's record was committed in parallel
 * and nothing waited for it. Here the store refuses only mcp.call records: the DELETE must not
 * reach the cluster, and the agent is told nothing was done.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { AuditStore } from '../../src/store/audit-store.ts';
import { startGatewayWorld, type GatewayWorld } from '../../testing/harness/gateway-world.ts';
import { mcpEndpointKit, toolText } from '../../testing/harness/mcp-endpoint-kit.ts';
import { findResource } from '../../testing/kube-emulator/resources.ts';

let dir: string;
let world: GatewayWorld;
const kit = mcpEndpointKit(() => world);
let failCallRecords = false;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-mcp-review-rec-'));
  const wrapStore = (store: AuditStore): AuditStore =>
    new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'insert') {
          return (entry: { code: string }, ...rest: unknown[]) =>
            failCallRecords && entry.code === 'mcp.call' ? Promise.reject(new Error('disk full (test)')) : (target.insert as (...a: unknown[]) => Promise<void>)(entry, ...rest);
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  world = await startGatewayWorld({ dir, wrapStore });
});

after(async () => {
  await kit.close();
  await world?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('a write is not forwarded when the trail did not take the call record', async () => {
  const { client } = await kit.connect(await kit.tokenFor('bob'));
  try {
    const configmaps = findResource('', 'v1', 'configmaps')!;
    const existing = world.emulator.store.list(configmaps, 'dev').items[0];
    assert.ok(existing, 'a configmap in dev');
    const name = existing.metadata.name;
    const before = world.emulator.requests.length;
    failCallRecords = true;
    const r = await client.callTool({ name: 'delete_resource', arguments: { apiVersion: 'v1', resource: 'configmaps', namespace: 'dev', name } });
    failCallRecords = false;
    assert.equal(r.isError, true);
    const deletes = world.emulator.requests.slice(before).filter((q) => q.method === 'DELETE');
    assert.deepEqual(
      deletes.map((q) => q.url),
      [],
      `the DELETE reached the cluster although the call's record was refused (the agent was told: ${toolText(r)})`,
    );
    assert.match(toolText(r), /AUDIT_UNAVAILABLE/, 'the agent is told the gateway could not record the call');
  } finally {
    failCallRecords = false;
  }
});
