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
import { startGatewayWorld, type GatewayWorld } from '../../testing/harness/gateway-world.ts';
import { eventually, mcpEndpointKit, toolText } from '../../testing/harness/mcp-endpoint-kit.ts';

let dir: string;
let world: GatewayWorld;
const kit = mcpEndpointKit(() => world);
const { fetch: fetchFn, mcpUrl, tokenFor, person, recordsOf } = kit;
const connect = (token: string): ReturnType<typeof kit.connect> => kit.connect(token, { name: 'review-agent' });
const text = toolText;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-mcp-review-'));
  world = await startGatewayWorld({ dir, mcp: { progressInterval: '1s' } });
});

after(async () => {
  await kit.close();
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

  /**
   * The mcp.call record of the last call of `tool` since `since`, serialized — after checking that
   * it does keep the arguments, with something masked or left out in them (a record that dropped
   * them would hold no secret either).
   */
  const recorded = async (tool: string, since: Date): Promise<string> => {
    const rec = await eventually(async () => (await recordsOf('mcp.call', since)).find((x) => x.detail?.tool === tool && x.outcome), `the ${tool} record`);
    const args = rec.detail?.arguments as Record<string, unknown> | undefined;
    assert.ok(args && ('manifest' in args || 'patch' in args), `the record keeps the arguments: ${JSON.stringify(args)}`);
    assert.match(JSON.stringify(args), /REDACTED|MASKED|not shown/, 'with the secret masked or left out');
    return JSON.stringify(rec);
  };

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
