/**
 * A session whose only activity is a call held for approval is not closed as idle while the call
 * waits (mcp-endpoint.ts counts a session's requests in flight). Found by the issue #7 review:
 * `lastUsed` used to change only when a request arrived, so the idle sweeper closed such a
 * session and aborted the call. The idle timeout is shortened here to show it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startGatewayWorld, type GatewayWorld } from '../../testing/harness/gateway-world.ts';
import { eventually, mcpEndpointKit } from '../../testing/harness/mcp-endpoint-kit.ts';

let dir: string;
let world: GatewayWorld;
const kit = mcpEndpointKit(() => world);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-mcp-review-idle-'));
  world = await startGatewayWorld({ dir, mcp: { sessionIdleTimeout: '2s', progressInterval: '1s' } });
});
after(async () => {
  await kit.close();
  await world?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('a session with a call held for approval is not closed as idle while the call waits', async () => {
  const { client } = await kit.connect(await kit.tokenFor('bob'));
  const since = new Date();
  const call = client.callTool({ name: 'delete_resource', arguments: { apiVersion: 'v1', resource: 'configmaps', namespace: 'prod', name: 'app-config' } }, undefined, { timeout: 15_000, resetTimeoutOnProgress: true });
  const approval = await eventually(async () => (await world.approvalStore.list({ states: ['pending'], requester: 'bob', since }))[0], 'a pending approval');
  await new Promise((r) => setTimeout(r, 5_000));
  await world.gateway.approvals!.approve(approval.id, kit.person('carol', ['approvers']));
  const r = await call;
  assert.ok(!r.isError, JSON.stringify(r).slice(0, 300));
});
