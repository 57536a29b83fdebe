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
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Principal } from '../../src/core/principal.ts';
import { startGatewayWorld, type GatewayWorld } from '../../testing/harness/gateway-world.ts';
import { createTrustedFetch, type TrustedFetch } from '../../testing/oidc/http-client.ts';

let dir: string;
let world: GatewayWorld;
let trusted: TrustedFetch;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-mcp-review-idle-'));
  world = await startGatewayWorld({ dir, mcp: { sessionIdleTimeout: '2s', progressInterval: '1s' } });
  trusted = createTrustedFetch(world.ca.cert);
});
after(async () => {
  await trusted?.close();
  await world?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('a session with a call held for approval is not closed as idle while the call waits', async () => {
  const token = await world.idp.tokenFor('bob', { audience: world.gateway.mcpUrl! });
  const client = new Client({ name: 'review', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(world.gateway.mcpUrl!), { fetch: (u, i) => trusted(String(u), i), requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  try {
    const since = new Date();
    const call = client.callTool({ name: 'delete_resource', arguments: { apiVersion: 'v1', resource: 'configmaps', namespace: 'prod', name: 'app-config' } }, undefined, { timeout: 15_000, resetTimeoutOnProgress: true });
    let approval;
    for (let i = 0; i < 100 && !approval; i++) {
      approval = (await world.approvalStore.list({ states: ['pending'], requester: 'bob', since }))[0];
      if (!approval) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(approval);
    await new Promise((r) => setTimeout(r, 5_000));
    const carol: Principal = { issuer: world.idp.issuer, subject: 'carol', username: 'carol', groups: ['approvers'], kind: 'person' };
    await world.gateway.approvals!.approve(approval.id, carol);
    const r = await call;
    assert.ok(!r.isError, JSON.stringify(r).slice(0, 300));
  } finally {
    await client.close().catch(() => undefined);
  }
});
