/**
 * `GET /sluice/v1/audit/events/{id}/terminal` (what `sluice audit replay` reads), over real HTTPS
 * with real tokens: the demo policy lets bob replay his own sessions and no one else's (404, like
 * a missing record), carol everyone's; `events/terminal` is guarded, so a rule that grants it
 * only through a wildcard does not (nor `events/body`, the recorded bodies); a record that is not a session, or whose chunks no longer
 * match the trail, is refused (409 AUDIT_NOT_REPLAYABLE) unless asked `unverified=true`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { createAuditRecorder } from '../../../src/audit/recorder.ts';
import type { AuditBegin, AuditRecorder } from '../../../src/audit/types.ts';
import type { BodyJson, TerminalJson } from '../../../src/control/audit-reads.ts';
import { loadPolicies } from '../../../src/policy/load-policies.ts';
import type { PolicySet } from '../../../src/policy/policy-set.ts';
import { createMemoryAuditStore, type MemoryAuditStore } from '../../../src/store/memory/memory-audit-store.ts';
import { auditEntry } from '../store/audit-store.conformance.ts';
import { policy } from '../policy/helpers.ts';
import { startControlWorld, type ControlWorld } from './control-fixture.ts';

describe('control API: recorded terminal sessions', { timeout: 120_000 }, () => {
  let w: ControlWorld;
  let agent: Agent;
  let store: MemoryAuditStore;
  let recorder: AuditRecorder;
  let api: { url: string; close(): Promise<void> };
  let current: PolicySet;
  let bobsExec: AuditBegin;
  let alicesExec: AuditBegin;
  let bobsGet: AuditBegin;

  async function get(path: string, user: string): Promise<{ status: number; json: unknown }> {
    const res = await request(`${api.url}${path}`, { headers: { authorization: `Bearer ${await w.token(user)}` }, dispatcher: agent });
    const text = await res.body.text();
    return { status: res.statusCode, json: JSON.parse(text) as unknown };
  }
  const codeOf = (a: { json: unknown }): string => (a.json as { error: { code: string } }).error.code;

  /** Runs `fn` under a policy that gives carol `events` and `events/*` — a wildcard, which never grants the guarded subresources. */
  async function withWideRule(fn: () => Promise<void>): Promise<void> {
    const before = current;
    current = policy(`
- id: audit/wide
  effect: allow
  subjects: { users: [carol] }
  connections: [sluice]
  apiGroups: [audit.sluice.dev]
  verbs: [get, list]
  resources: ["events", "events/*"]
`);
    try {
      await fn();
    } finally {
      current = before;
    }
  }

  const exec = (who: AuditBegin['principal']): AuditBegin => {
    const e = auditEntry({ namespace: 'dev', principal: who });
    const path = '/api/v1/namespaces/dev/pods/web-1/exec';
    return { ...e, path, query: 'command=sh&container=app&stdin=true&stdout=true', attributes: { ...e.attributes!, subresource: 'exec', verb: 'get', path } };
  };
  async function session(e: AuditBegin, output: string): Promise<void> {
    const h = recorder.begin(e);
    await h.commit();
    h.record('stdout', Buffer.from(output));
    h.record('status', Buffer.from('{"metadata":{},"status":"Success"}'));
    await h.complete({ status: 101, bytesIn: 3, bytesOut: output.length, durationMs: 5 });
  }

  before(async () => {
    w = await startControlWorld();
    agent = new Agent({ connect: { ca: w.caCert } });
    store = createMemoryAuditStore();
    recorder = createAuditRecorder(store, { closeStore: false });
    current = await loadPolicies('policies/demo');
    bobsExec = exec(w.person('bob', ['developers']));
    alicesExec = exec(w.person('alice', ['sre', 'approvers']));
    bobsGet = auditEntry({ principal: w.person('bob', ['developers']) });
    await session(bobsExec, 'hello from bob\r\n');
    await session(alicesExec, 'hello from alice\r\n');
    await store.insert(bobsGet, { status: 200, bytesIn: 0, bytesOut: 1, durationMs: 1, completedAt: new Date() });
    api = await w.startApi({ audit: { store, recorder, policies: () => current } });
    await Promise.all(['alice', 'bob', 'carol', 'mallory'].map((u) => w.token(u)));
  });

  after(async () => {
    await api?.close();
    await agent?.close();
    await w?.stop();
  });

  test('bob replays his own session: the record and its chunks, checked against the trail', async () => {
    const r = await get(`/sluice/v1/audit/events/${bobsExec.id}/terminal`, 'bob');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const t = r.json as TerminalJson;
    assert.equal(t.record.id, bobsExec.id);
    assert.equal(t.verified, true);
    assert.deepEqual(
      t.chunks.map((c) => [c.stream, Buffer.from(c.data, 'base64').toString()]),
      [
        ['stdout', 'hello from bob\r\n'],
        ['status', '{"metadata":{},"status":"Success"}'],
      ],
    );
    const read = (await store.list({ code: 'audit.read', user: 'bob' })).records.find((x) => x.path.endsWith('/terminal'));
    assert.equal(read?.attributes?.subresource, 'terminal', 'the replay is recorded as a read of events/terminal');
  });

  test("bob gets 404 for alice's session; carol may replay it; mallory gets 403", async () => {
    const theirs = await get(`/sluice/v1/audit/events/${alicesExec.id}/terminal`, 'bob');
    assert.equal(theirs.status, 404);
    assert.equal(codeOf(theirs), 'AUDIT_RECORD_NOT_FOUND');
    assert.equal((await get(`/sluice/v1/audit/events/${alicesExec.id}/terminal`, 'carol')).status, 200);
    const denied = await get(`/sluice/v1/audit/events/${alicesExec.id}/terminal`, 'mallory');
    assert.equal(denied.status, 403);
    assert.equal(codeOf(denied), 'POLICY_DENIED');
  });

  test('events/terminal is guarded: a rule granting it only through a wildcard does not', async () => {
    await withWideRule(async () => {
      assert.equal((await get(`/sluice/v1/audit/events/${alicesExec.id}`, 'carol')).status, 200, 'the record itself is granted');
      const r = await get(`/sluice/v1/audit/events/${alicesExec.id}/terminal`, 'carol');
      assert.equal(r.status, 403);
      assert.equal(codeOf(r), 'POLICY_DENIED');
    });
  });

  test('recorded bodies: events/body is granted by name (carol; the demo gives bob no body reads), never through a wildcard; the answer says what was withheld', async () => {
    const e = auditEntry({ verb: 'create', principal: w.person('bob', ['developers']) });
    const h = recorder.begin(e);
    h.record('request', Buffer.from('{"kind":"ConfigMap","data":{"a":"b"}}'));
    h.record('response', Buffer.from('{"kind":"Secret","data":{"p":"REDACTED"}}'), true);
    await h.complete({ status: 201, bytesIn: 10, bytesOut: 40, durationMs: 2 });
    const bobs = await get(`/sluice/v1/audit/events/${e.id}/body`, 'bob');
    assert.equal(bobs.status, 403, 'audit/own grants events and events/terminal, not events/body');
    assert.equal(codeOf(bobs), 'POLICY_DENIED');
    const carols = await get(`/sluice/v1/audit/events/${e.id}/body`, 'carol');
    assert.equal(carols.status, 200, JSON.stringify(carols.json));
    const b = carols.json as BodyJson;
    assert.equal(b.verified, true);
    assert.deepEqual(
      b.chunks.map((c) => [c.stream, Buffer.from(c.data, 'base64').toString()]),
      [['request', '{"kind":"ConfigMap","data":{"a":"b"}}']],
    );
    assert.equal(b.bodies?.response?.withheld, true);
    await withWideRule(async () => assert.equal((await get(`/sluice/v1/audit/events/${e.id}/body`, 'carol')).status, 403));
  });

  test('a record that is not a session is refused; a session whose chunks changed is refused unless unverified=true', async () => {
    const notSession = await get(`/sluice/v1/audit/events/${bobsGet.id}/terminal`, 'bob');
    assert.equal(notSession.status, 409);
    assert.equal(codeOf(notSession), 'AUDIT_NOT_REPLAYABLE');

    const tampered = createMemoryAuditStore();
    const fake = exec(w.person('bob', ['developers']));
    const chunks = [{ n: 0, stream: 'stdout' as const, tUs: 1, data: Buffer.from('rm -rf /') }];
    await tampered.insert(fake, { status: 101, bytesIn: 0, bytesOut: 8, durationMs: 1, completedAt: new Date() }, {
      chunks,
      bodies: { stdout: { chunks: 1, recordedBytes: 8, totalBytes: 8, truncated: false, digest: '00'.repeat(32) } },
    });
    const other = await w.startApi({ audit: { store: tampered, recorder: createAuditRecorder(tampered, { closeStore: false }), policies: () => current } });
    try {
      const ask = async (q: string) => {
        const res = await request(`${other.url}/sluice/v1/audit/events/${fake.id}/terminal${q}`, { headers: { authorization: `Bearer ${await w.token('bob')}` }, dispatcher: agent });
        return { status: res.statusCode, json: JSON.parse(await res.body.text()) as unknown };
      };
      const refused = await ask('');
      assert.equal(refused.status, 409);
      assert.match((refused.json as { error: { message: string } }).error.message, /does not match the trail/);
      const anyway = await ask('?unverified=true');
      assert.equal(anyway.status, 200);
      assert.equal((anyway.json as TerminalJson).verified, false);
    } finally {
      await other.close();
    }
  });
});
