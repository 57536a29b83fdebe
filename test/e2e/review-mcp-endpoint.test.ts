/**
 * Sluice's own MCP endpoint (issue #7) attacked as a second reviewer did, each test named after
 * what it attacks: a connection that is not the caller's, secrets in recorded arguments, deeply
 * nested arguments, a held exec's time limit, task lifetimes and isolation, audiences, sessions
 * of another identity. Each failed before the review's mends and passes now.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Principal } from '../../src/core/principal.ts';
import type { AuditRecord } from '../../src/audit/types.ts';
import { startGatewayWorld, type GatewayWorld } from '../../testing/harness/gateway-world.ts';
import { createTrustedFetch, type TrustedFetch } from '../../testing/oidc/http-client.ts';

let dir: string;
let world: GatewayWorld;
let trusted: TrustedFetch;
const fetchFn = (url: string | URL, init?: RequestInit): Promise<Response> => trusted(String(url), init);
const clients: Client[] = [];
const mcpUrl = (): string => world.gateway.mcpUrl!;
const tokenFor = (user: string): Promise<string> => world.idp.tokenFor(user, { audience: mcpUrl() });
const person = (username: string, groups: string[]): Principal => ({ issuer: world.idp.issuer, subject: username, username, groups, kind: 'person' });
const text = (r: object): string => (((r as { content?: unknown }).content as { type: string; text?: string }[] | undefined) ?? []).map((c) => c.text ?? '').join('\n');

async function connect(token: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'review-agent', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl()), { fetch: fetchFn, requestInit: { headers: { authorization: `Bearer ${token}` } } });
  await client.connect(transport);
  clients.push(client);
  return { client, transport };
}

async function recordsOf(code: string, since: Date): Promise<AuditRecord[]> {
  const page = await world.store.list({ code, since, limit: 500 });
  return [...page.records].sort((a, b) => a.seq - b.seq);
}

async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, tries = 200): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-mcp-review-'));
  world = await startGatewayWorld({ dir, mcp: { progressInterval: '1s' } });
  trusted = createTrustedFetch(world.ca.cert);
});

after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await trusted?.close();
  await world?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('the connection argument', () => {
  test('naming a connection the caller may not use (here: the reserved "sluice", or an unknown cluster) is refused, not silently replaced by the only allowed one', async () => {
    const { client } = await connect(await tokenFor('bob'));
    for (const connection of ['sluice', 'prod-cluster']) {
      const before = world.emulator.requests.length;
      const r = await client.callTool({ name: 'get_resource', arguments: { connection, apiVersion: 'v1', resource: 'pods', namespace: 'dev', name: 'db-0' } });
      assert.equal(r.isError, true, `connection ${connection}: the call ran on another cluster: ${text(r).slice(0, 200)}`);
      assert.match(text(r), /connection/);
      assert.equal(world.emulator.requests.length, before, 'nothing reached a cluster');
    }
  });
});

describe('recorded arguments never hold a secret in clear', () => {
  const password = 'review-very-secret-pw-1234';
  const b64 = Buffer.from(password).toString('base64');

  /** The mcp.call record of the last call of `tool` since `since`, serialized. */
  const recorded = async (tool: string, since: Date): Promise<string> =>
    JSON.stringify(await eventually(async () => (await recordsOf('mcp.call', since)).find((x) => x.detail?.tool === tool && x.outcome), `the ${tool} record`));

  test('apply_manifest whose manifest is passed as an object (a common model mistake): the Secret values are masked in the record', async () => {
    const { client } = await connect(await tokenFor('alice'));
    const since = new Date();
    const manifest = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'review-s', namespace: 'dev' }, stringData: { password }, data: { token: b64 } };
    const r = await client.callTool({ name: 'apply_manifest', arguments: { manifest } });
    assert.equal(r.isError, true, 'refused: manifest must be a string');
    const rec = await recorded('apply_manifest', since);
    assert.ok(!rec.includes(password) && !rec.includes(b64), `the audit record holds the Secret in clear: ${rec.slice(0, 400)}`);
  });

  test('apply_manifest with a Secret manifest that does not parse (two documents; a tab): the Secret values are masked in the record', async () => {
    const { client } = await connect(await tokenFor('alice'));
    for (const manifest of [
      `{apiVersion: v1, kind: Secret, metadata: {name: review-s, namespace: dev}, stringData: {password: ${password}}}\n---\n{kind: ConfigMap}`,
      `apiVersion: v1\nkind: Secret # for the app\nmetadata:\n\tname: review-s\nstringData:\n  password: ${password}\n`,
    ]) {
      const since = new Date();
      await client.callTool({ name: 'apply_manifest', arguments: { manifest } });
      const rec = await recorded('apply_manifest', since);
      assert.ok(!rec.includes(password), `the audit record holds the Secret in clear: ${rec.slice(0, 400)}`);
    }
  });

  test('patch_resource of a Secret whose patch is passed as a JSON string: the values are masked in the record', async () => {
    const { client } = await connect(await tokenFor('alice'));
    const since = new Date();
    await client.callTool({
      name: 'patch_resource',
      arguments: { apiVersion: 'v1', resource: 'secrets', namespace: 'dev', name: 'db-credentials', patchType: 'merge', patch: JSON.stringify({ stringData: { password } }) },
    });
    const rec = await recorded('patch_resource', since);
    assert.ok(!rec.includes(password), `the audit record holds the Secret in clear: ${rec.slice(0, 400)}`);
  });
});

describe('every tools/call is recorded', () => {
  test('a call whose arguments nest deeply is still an mcp.call record (refused, nothing sent)', async () => {
    const { client } = await connect(await tokenFor('bob'));
    const since = new Date();
    const before = world.emulator.requests.length;
    let deep: unknown = 'x';
    for (let i = 0; i < 2_000; i++) deep = [deep];
    const r = await client.callTool({ name: 'get_resource', arguments: { resource: 'pods', namespace: 'dev', name: 'db-0', extra: deep } });
    assert.equal(r.isError, true);
    assert.match(text(r), /nested deeper than/);
    assert.equal(world.emulator.requests.length, before);
    const rec = await eventually(async () => (await recordsOf('mcp.call', since)).find((x) => x.principal?.username === 'bob' && x.outcome), 'the call record');
    assert.equal(rec.outcome?.error?.code, 'REQUEST_INVALID');
    assert.match(JSON.stringify(rec.detail?.arguments), /omitted/);
  });

  test('a body nested too deep for any JSON parser is refused and recorded, nothing sent', async () => {
    const token = await tokenFor('bob');
    const { transport } = await connect(token);
    const since = new Date();
    const before = world.emulator.requests.length;
    const deep = `${'['.repeat(200_000)}"x"${']'.repeat(200_000)}`;
    const res = await fetchFn(mcpUrl(), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '2025-11-25', 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"get_resource","arguments":{"resource":"pods","namespace":"dev","name":"db-0","extra":${deep}}}}`,
    });
    const answer = await res.text();
    assert.equal(world.emulator.requests.length, before, 'nothing reached the cluster');
    const recorded = await eventually(async () => {
      const recs = [...(await recordsOf('mcp.call', since)), ...(await recordsOf('mcp.request.rejected', since))].filter((x) => x.principal?.username === 'bob' && x.outcome);
      return recs.length ? recs : undefined;
    }, `a record of the refused call (the client got ${res.status} ${answer.slice(0, 200)})`);
    assert.ok(recorded.every((x) => x.outcome!.error), 'recorded as refused');
  });
});

describe('approval', () => {
  test('a held exec waits for the approver beyond timeoutSeconds (the timeout is the session, not the wait), and runs once approved', async () => {
    const { client } = await connect(await tokenFor('alice'));
    const since = new Date();
    const call = client.callTool({ name: 'exec', arguments: { namespace: 'prod', pod: 'db-0', command: ['echo', 'held-exec-ran'], timeoutSeconds: 2 } }, undefined, {
      timeout: 60_000,
      resetTimeoutOnProgress: true,
    });
    let settled: string | undefined;
    void call.then(
      (r) => (settled = `result isError=${String(r.isError)}: ${text(r).slice(0, 200)}`),
      (e: Error) => (settled = `error ${e.message}`),
    );
    const approval = await eventually(async () => (await world.approvalStore.list({ states: ['pending'], requester: 'alice', since }))[0], 'a pending approval');
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal(settled, undefined, `the held call ended before any decision: ${settled}`);
    // sre/exec-prod waits for the requester's reason (this client offers no elicitation).
    await world.gateway.approvals!.setReason(approval.id, person('alice', ['sre', 'approvers']), 'checking the db');
    await world.gateway.approvals!.approve(approval.id, person('carol', ['approvers']), 'ok');
    const r = await call;
    assert.ok(!r.isError, text(r));
    assert.match(text(r), /held-exec-ran/);
  });
});

describe('tasks', () => {
  test('a task cannot be made to live forever: ttl 0 is not "no expiry"', async () => {
    const { client } = await connect(await tokenFor('bob'));
    let ttl: number | null | undefined;
    for await (const m of client.experimental.tasks.callToolStream({ name: 'list_resources', arguments: { resource: 'pods', namespace: 'dev' } }, undefined, { task: { ttl: 0 }, timeout: 30_000 })) {
      if (m.type === 'taskCreated') ttl = m.task.ttl;
    }
    assert.ok(typeof ttl === 'number' && ttl > 0, `the task's ttl is ${String(ttl)}: the in-memory store never removes it (nor its result)`);
  });

  test("another session of another identity cannot read a task (tasks/get, tasks/result, tasks/list)", async () => {
    const { client: bob } = await connect(await tokenFor('bob'));
    let taskId = '';
    for await (const m of bob.experimental.tasks.callToolStream({ name: 'list_resources', arguments: { resource: 'pods', namespace: 'dev' } }, undefined, { task: { ttl: 60_000 }, timeout: 30_000 })) {
      if (m.type === 'taskCreated') taskId = m.task.taskId;
    }
    assert.ok(taskId);
    const { client: alice } = await connect(await tokenFor('alice'));
    await assert.rejects(alice.experimental.tasks.getTask(taskId));
    await assert.rejects(alice.experimental.tasks.getTaskResult(taskId, (await import('@modelcontextprotocol/sdk/types.js')).CallToolResultSchema));
    const listed = await alice.experimental.tasks.listTasks();
    assert.ok(!listed.tasks.some((t) => t.taskId === taskId));
  });
});

describe('audiences', () => {
  test('a token for /mcp is refused on the Kubernetes listener, also right after /mcp verified (and cached) it', async () => {
    const token = await tokenFor('bob');
    await connect(token);
    const res = await fetchFn(`${world.gateway.clusterUrl('demo')}/api/v1/namespaces/dev/pods`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 401);
  });

  test('a token for the Kubernetes listener used there first (cached) is still refused at /mcp', async () => {
    const token = await world.idp.tokenFor('bob');
    const ok = await fetchFn(`${world.gateway.clusterUrl('demo')}/api/v1/namespaces/dev/pods`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    const res = await fetchFn(mcpUrl(), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    assert.equal(res.status, 401);
  });
});

describe('sessions', () => {
  test("another identity cannot GET (SSE) or DELETE bob's session", async () => {
    const { transport } = await connect(await tokenFor('bob'));
    const sid = transport.sessionId!;
    const alice = await tokenFor('alice');
    const h = { authorization: `Bearer ${alice}`, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
    const get = await fetchFn(mcpUrl(), { method: 'GET', headers: { ...h, accept: 'text/event-stream' } });
    assert.equal(get.status, 404);
    await get.body?.cancel();
    const del = await fetchFn(mcpUrl(), { method: 'DELETE', headers: h });
    assert.equal(del.status, 404);
    await del.text();
    // bob's session still works
    const bob = await tokenFor('bob');
    const list = await fetchFn(mcpUrl(), {
      method: 'POST',
      headers: { authorization: `Bearer ${bob}`, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25', 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    });
    assert.equal(list.status, 200);
    await list.text();
  });
});
