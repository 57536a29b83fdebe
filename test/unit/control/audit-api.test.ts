/**
 * Reading the audit trail through the control API (ADR 0002, Decision 6), over real HTTPS with
 * real tokens from the test identity provider, the demo policy (policies/demo: alice and carol
 * read everything, bob only his own) and an in-memory audit store: who sees what in lists and
 * single records, 403 for a caller without a rule, 400 for bad filters, and the `audit.read`
 * record every read leaves.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { createAuditRecorder } from '../../../src/audit/recorder.ts';
import { recordJson, type AuditRecordJson } from '../../../src/audit/record-json.ts';
import type { AuditBegin, AuditRecord } from '../../../src/audit/types.ts';
import type { Principal } from '../../../src/core/principal.ts';
import { loadPolicies } from '../../../src/policy/load-policies.ts';
import type { PolicySet } from '../../../src/policy/policy-set.ts';
import { createMemoryAuditStore, type MemoryAuditStore } from '../../../src/store/memory/memory-audit-store.ts';
import { auditEntry } from '../store/audit-store.conformance.ts';
import { policy } from '../policy/helpers.ts';
import { startControlWorld, type ControlWorld } from './control-fixture.ts';

interface Answer {
  status: number;
  text: string;
  json: unknown;
}
interface PageJson {
  records: AuditRecordJson[];
  next?: string;
}
interface ErrorJson {
  error: { code: string; message: string };
}

describe('control API: audit reads', { timeout: 120_000 }, () => {
  let w: ControlWorld;
  let agent: Agent;
  let store: MemoryAuditStore;
  let api: { url: string; close(): Promise<void> };
  let current: PolicySet;
  const now = Date.now();
  // Times inside today (UTC) unless the test starts in the first second after midnight.
  const at = (msAgo: number): Date => new Date(now - msAgo);

  let alicePerson: Principal;
  let bobPerson: Principal;
  let alicesGet: AuditBegin;
  let bobsDelete: AuditBegin;
  let bobsExec: AuditBegin;
  let otherBob: AuditBegin; // another issuer's "bob": not the bob of the token
  let carolsList: AuditBegin;
  let anonymous: AuditBegin;
  let bobsOld: AuditBegin; // two days ago

  async function get(path: string, user?: string, base?: string): Promise<Answer> {
    const headers: Record<string, string> = user ? { authorization: `Bearer ${await w.token(user)}` } : {};
    const res = await request(`${base ?? api.url}${path}`, { method: 'GET', headers, dispatcher: agent });
    const text = await res.body.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, text, json };
  }
  const page = (a: Answer): PageJson => {
    assert.equal(a.status, 200, a.text);
    return a.json as PageJson;
  };
  const ids = (a: Answer): string[] => page(a).records.map((r) => r.id);
  const errorOf = (a: Answer, status: number, code: string): string => {
    assert.equal(a.status, status, a.text);
    const e = (a.json as ErrorJson).error;
    assert.equal(e.code, code, a.text);
    return e.message;
  };
  /** The newest audit.read records of `user`, straight from the store. */
  const reads = async (user: string): Promise<AuditRecord[]> => (await store.list({ code: 'audit.read', user })).records;
  const seeded = (): string[] => [alicesGet, bobsDelete, bobsExec, otherBob, carolsList, anonymous, bobsOld].map((e) => e.id);

  before(async () => {
    w = await startControlWorld();
    agent = new Agent({ connect: { ca: w.caCert } });
    store = createMemoryAuditStore();
    current = await loadPolicies('policies/demo');
    alicePerson = { ...w.person('alice', ['sre', 'approvers']) };
    bobPerson = { ...w.person('bob', ['developers']) };
    alicesGet = { ...auditEntry({ namespace: 'prod', principal: alicePerson }), time: at(60) };
    bobsDelete = { ...auditEntry({ verb: 'delete', namespace: 'prod', principal: bobPerson }), time: at(50) };
    bobsExec = {
      ...auditEntry({ namespace: 'dev', principal: bobPerson }),
      path: '/api/v1/namespaces/dev/pods/web-1/exec',
      query: 'command=cat&command=%2Fetc%2Fpasswd&stdout=true',
      time: at(40),
    };
    bobsExec.attributes = { ...bobsExec.attributes!, subresource: 'exec', verb: 'create' };
    otherBob = { ...auditEntry({ namespace: 'prod', principal: { ...bobPerson, issuer: 'https://elsewhere.example' } }), time: at(30) };
    carolsList = { ...auditEntry({ verb: 'list', namespace: 'prod', principal: w.person('carol', ['approvers']) }), time: at(20) };
    anonymous = { ...auditEntry(), code: 'authn.failed', principal: null, time: at(10) };
    bobsOld = { ...auditEntry({ namespace: 'prod', principal: bobPerson }), time: new Date(now - 2 * 86_400_000) };
    for (const e of [alicesGet, bobsDelete, bobsExec, otherBob, carolsList, anonymous, bobsOld]) await store.insert(e);
    const recorder = createAuditRecorder(store, { closeStore: false });
    api = await w.startApi({ audit: { store, recorder, policies: () => current } });
    await Promise.all(['alice', 'bob', 'carol', 'mallory', 'ci-bot'].map((u) => w.token(u)));
  });

  after(async () => {
    await api?.close();
    await agent?.close();
    await w?.stop();
  });

  test('alice sees bob\'s records and her own; "what did bob do in prod today" is one query', async () => {
    const all = ids(await get('/sluice/v1/audit/events?limit=1000', 'alice'));
    for (const id of seeded()) assert.ok(all.includes(id), `alice sees ${id}`);
    assert.deepEqual(ids(await get('/sluice/v1/audit/events?user=bob&namespace=prod&since=today&code=kubernetes.request', 'alice')), [otherBob.id, bobsDelete.id]);
    assert.deepEqual(ids(await get('/sluice/v1/audit/events?user=bob&namespace=prod&since=7d&code=kubernetes.request', 'alice')), [otherBob.id, bobsDelete.id, bobsOld.id]);
  });

  test('records go out as `sluice audit show --json` prints them', async () => {
    const listed = page(await get(`/sluice/v1/audit/events?user=bob&verb=delete`, 'alice')).records;
    const stored = (await store.get(bobsDelete.id))!;
    assert.deepEqual(listed, [recordJson(stored)]);
    const shown = await get(`/sluice/v1/audit/events/${bobsDelete.id}`, 'alice');
    assert.equal(shown.status, 200, shown.text);
    assert.deepEqual(shown.json, recordJson(stored));
    assert.equal((shown.json as AuditRecordJson).time, bobsDelete.time.toISOString());
  });

  test('every filter reaches the store: group, connection, verb, resource, decision, text, code, time', async () => {
    const q = async (query: string): Promise<string[]> => ids(await get(`/sluice/v1/audit/events?code=kubernetes.request&${query}`, 'carol'));
    assert.deepEqual(await q('group=developers&since=today'), [otherBob.id, bobsExec.id, bobsDelete.id]);
    assert.deepEqual(await q('group=approvers'), [carolsList.id, alicesGet.id]);
    assert.deepEqual(await q('resource=pods/exec'), [bobsExec.id]);
    assert.deepEqual(await q('text=%2Fetc%2Fpasswd'), [bobsExec.id], 'text=/etc/passwd finds the exec command');
    assert.deepEqual(await q('text=PASSWD&verb=create'), [bobsExec.id]);
    assert.deepEqual(await q('verb=list&namespace=prod'), [carolsList.id]);
    assert.deepEqual(await q('decision=deny'), []);
    assert.deepEqual(await q(`until=${encodeURIComponent(new Date(now - 86_400_000).toISOString())}`), [bobsOld.id]);
    assert.deepEqual(await q('connection=other'), []);
    assert.deepEqual(ids(await get('/sluice/v1/audit/events?code=authn.failed', 'carol')), [anonymous.id]);
  });

  test('pages: limit and the next cursor', async () => {
    const first = page(await get('/sluice/v1/audit/events?code=kubernetes.request&limit=2', 'carol'));
    assert.equal(first.records.length, 2);
    assert.ok(first.next);
    const second = page(await get(`/sluice/v1/audit/events?code=kubernetes.request&limit=10&before=${first.next}`, 'carol'));
    assert.deepEqual([...first.records, ...second.records].map((r) => r.id), [carolsList.id, otherBob.id, bobsExec.id, bobsDelete.id, alicesGet.id, bobsOld.id]);
  });

  test('bob sees only his own records (issuer and subject), not another issuer\'s bob', async () => {
    const list = page(await get('/sluice/v1/audit/events?limit=1000', 'bob')).records;
    const got = list.map((r) => r.id);
    for (const e of [bobsDelete, bobsExec, bobsOld]) assert.ok(got.includes(e.id), `bob sees his ${e.id}`);
    for (const e of [alicesGet, otherBob, carolsList, anonymous]) assert.ok(!got.includes(e.id), `bob does not see ${e.id}`);
    for (const r of list) assert.deepEqual([r.principal?.issuer, r.principal?.subject], [w.idp.issuer, 'bob']);
    // Asking for someone else narrows further; it never widens.
    assert.deepEqual(ids(await get('/sluice/v1/audit/events?user=alice', 'bob')), []);
    assert.deepEqual(ids(await get('/sluice/v1/audit/events?user=bob&namespace=prod&code=kubernetes.request', 'bob')), [bobsDelete.id, bobsOld.id]);
  });

  test("bob gets 404 for alice's record, by id or prefix, exactly as for a record that does not exist", async () => {
    const theirs = errorOf(await get(`/sluice/v1/audit/events/${alicesGet.id}`, 'bob'), 404, 'AUDIT_RECORD_NOT_FOUND');
    const missingId = randomUUID();
    const missing = errorOf(await get(`/sluice/v1/audit/events/${missingId}`, 'bob'), 404, 'AUDIT_RECORD_NOT_FOUND');
    assert.equal(theirs.replace(alicesGet.id, 'ID'), missing.replace(missingId, 'ID'));
    errorOf(await get(`/sluice/v1/audit/events/${alicesGet.id.slice(0, 8)}`, 'bob'), 404, 'AUDIT_RECORD_NOT_FOUND');
    errorOf(await get(`/sluice/v1/audit/events/${otherBob.id}`, 'bob'), 404, 'AUDIT_RECORD_NOT_FOUND');
    // His own, by id and by prefix.
    const own = await get(`/sluice/v1/audit/events/${bobsDelete.id.slice(0, 8).toUpperCase()}`, 'bob');
    assert.equal(own.status, 200, own.text);
    assert.equal((own.json as AuditRecordJson).id, bobsDelete.id);
    // alice sees it.
    assert.equal((await get(`/sluice/v1/audit/events/${alicesGet.id}`, 'carol')).status, 200);
  });

  test('carol sees everything', async () => {
    const all = ids(await get('/sluice/v1/audit/events?limit=1000', 'carol'));
    for (const id of seeded()) assert.ok(all.includes(id), `carol sees ${id}`);
  });

  test('a caller without a rule gets 403 POLICY_DENIED, and the attempt is recorded', async () => {
    for (const user of ['mallory', 'ci-bot']) {
      const msg = errorOf(await get('/sluice/v1/audit/events', user), 403, 'POLICY_DENIED');
      assert.match(msg, new RegExp(`^you may not read the audit trail: no policy rule allows list events\\.audit\\.sluice\\.dev for ${user}`));
      errorOf(await get(`/sluice/v1/audit/events/${bobsDelete.id}`, user), 403, 'POLICY_DENIED');
    }
    const [attempt] = await reads('mallory');
    assert.ok(attempt);
    assert.equal(attempt.decision?.effect, 'deny');
    assert.equal(attempt.outcome?.status, 403);
    assert.equal(attempt.outcome?.error?.code, 'POLICY_DENIED');
    assert.equal(attempt.connection, 'sluice');
    assert.deepEqual([attempt.attributes?.verb, attempt.attributes?.resource, attempt.attributes?.apiGroup, attempt.attributes?.name], ['get', 'events', 'audit.sluice.dev', bobsDelete.id]);
  });

  test('every read is recorded as audit.read with the filter as run and the count returned', async () => {
    const a = page(await get('/sluice/v1/audit/events?user=bob&namespace=prod&since=today&code=kubernetes.request', 'alice'));
    assert.equal(a.records.length, 2);
    const [r] = await reads('alice');
    assert.ok(r);
    assert.equal(r.code, 'audit.read');
    assert.deepEqual(r.principal, alicePerson);
    assert.equal(r.path, '/sluice/v1/audit/events');
    assert.equal(r.query, 'user=bob&namespace=prod&since=today&code=kubernetes.request');
    assert.deepEqual(r.decision?.rules, ['audit/auditors']);
    assert.equal(r.decision?.policyDigest, current.digest);
    const midnight = new Date(now);
    midnight.setUTCHours(0, 0, 0, 0);
    assert.deepEqual(r.detail, { filter: { user: 'bob', namespace: 'prod', code: 'kubernetes.request', since: midnight.toISOString() }, count: 2 });
    assert.equal(r.outcome?.status, 200);
    assert.ok((r.outcome?.bytesOut ?? 0) > 0);

    // bob's read carries his scope: the principal filter.
    page(await get('/sluice/v1/audit/events?verb=delete', 'bob'));
    const [b] = await reads('bob');
    assert.deepEqual(b?.detail, { filter: { verb: 'delete', principal: { issuer: w.idp.issuer, subject: 'bob' } }, scope: 'self', count: 1 });
    assert.deepEqual(b?.decision?.rules, ['audit/own']);

    // show: the record asked for, and 0 when it is not found (or not visible).
    await get(`/sluice/v1/audit/events/${alicesGet.id}`, 'bob');
    const [shown] = await reads('bob');
    assert.deepEqual(shown?.detail, { id: alicesGet.id, scope: 'self', count: 0 });
    assert.equal(shown?.outcome?.status, 404);
    await get(`/sluice/v1/audit/events/${alicesGet.id.slice(0, 8)}`, 'carol');
    const [c] = await reads('carol');
    assert.deepEqual(c?.detail, { id: alicesGet.id, count: 1 });
    assert.equal(c?.path, `/sluice/v1/audit/events/${alicesGet.id.slice(0, 8)}`);

    // Readers see audit reads too: bob his own, alice everyone's.
    assert.ok(ids(await get('/sluice/v1/audit/events?code=audit.read&limit=1000', 'bob')).includes(b!.id));
    assert.ok(ids(await get('/sluice/v1/audit/events?code=audit.read&connection=sluice&limit=1000', 'alice')).includes(b!.id));
  });

  test('bad filters → 400 AUDIT_QUERY_INVALID naming the problem, and the attempt is recorded', async () => {
    const cases: [string, RegExp][] = [
      ['since=yesterday', /since "yesterday": expected a duration such as 15m, 1h, 7d, "today" or an ISO 8601 time/],
      ['until=2026-13-45', /until/],
      ['limit=0', /limit: expected an integer from 1 to 1000/],
      ['limit=5000', /limit/],
      ['limit=x', /limit/],
      ['decision=maybe', /decision: expected allow, deny or review/],
      ['approval=abc', /approval: expected the full approval id/],
      ['code=kubernetes.nope', /code: expected an audit event code/],
      ['sort=time', /unknown parameter "sort"/],
      ['user=a&user=b', /parameter "user" is given twice/],
      [`text=${'x'.repeat(300)}`, /text is longer than 256 characters/],
      ['text=', /text must not be empty/],
      ['namespace=dev%0Aprod', /namespace contains a control character/],
      ['resource=a/b/c', /resource is `resource` or `resource\/subresource`/],
      ['before=garbage', /invalid audit cursor/],
    ];
    for (const [q, re] of cases) {
      const msg = errorOf(await get(`/sluice/v1/audit/events?${q}`, 'alice'), 400, 'AUDIT_QUERY_INVALID');
      assert.match(msg, re, q);
    }
    errorOf(await get('/sluice/v1/audit/events/not-an-id!', 'alice'), 400, 'AUDIT_QUERY_INVALID');
    const [r] = await reads('alice');
    assert.equal(r?.outcome?.status, 400);
    assert.equal(r?.outcome?.error?.code, 'AUDIT_QUERY_INVALID');
    // A caller without a rule learns nothing about filters: 403 first.
    errorOf(await get('/sluice/v1/audit/events?limit=0', 'mallory'), 403, 'POLICY_DENIED');
  });

  test('an ambiguous prefix → 404 naming the records the caller may see', async () => {
    const x = { ...auditEntry({ principal: bobPerson }), id: 'abcdef01-0000-4000-8000-000000000001', time: at(5) };
    const y = { ...auditEntry({ principal: alicePerson }), id: 'abcdef02-0000-4000-8000-000000000002', time: at(5) };
    await store.insert(x);
    await store.insert(y);
    const msg = errorOf(await get('/sluice/v1/audit/events/abcdef0', 'alice'), 404, 'AUDIT_RECORD_NOT_FOUND');
    assert.match(msg, /ambiguous/);
    assert.ok(msg.includes(x.id) && msg.includes(y.id));
    // For bob only his own matches the prefix: no ambiguity, and alice's id is never named.
    const own = await get('/sluice/v1/audit/events/abcdef0', 'bob');
    assert.equal(own.status, 200, own.text);
    assert.equal((own.json as AuditRecordJson).id, x.id);
  });

  test('the policy in force decides: a reload takes effect at the next read', async () => {
    const demo = current;
    try {
      current = policy(`
- { id: audit/mallory, effect: allow, subjects: { users: [mallory] }, connections: [sluice], apiGroups: [audit.sluice.dev], verbs: [list], resources: [events], auditScope: self }
`);
      assert.equal((await get('/sluice/v1/audit/events', 'mallory')).status, 200);
      errorOf(await get('/sluice/v1/audit/events', 'alice'), 403, 'POLICY_DENIED');
      current = policy(`
- { id: audit/review, effect: review, subjects: { users: [alice] }, connections: [sluice], apiGroups: [audit.sluice.dev], verbs: [list], resources: [events] }
`);
      assert.match(errorOf(await get('/sluice/v1/audit/events', 'alice'), 403, 'APPROVAL_REQUIRED'), /audit reads are not held for approval/);
    } finally {
      current = demo;
    }
  });

  test('when the trail cannot record the read, nothing is released: 503 AUDIT_UNAVAILABLE', async () => {
    const broken = createMemoryAuditStore();
    broken.failWith = 'disk full';
    const other = await w.startApi({ audit: { store, recorder: createAuditRecorder(broken), policies: () => current } });
    try {
      const a = await get('/sluice/v1/audit/events', 'alice', other.url);
      assert.match(errorOf(a, 503, 'AUDIT_UNAVAILABLE'), /could not record this read/);
      assert.ok(!a.text.includes(alicesGet.id));
      errorOf(await get(`/sluice/v1/audit/events/${alicesGet.id}`, 'alice', other.url), 503, 'AUDIT_UNAVAILABLE');
    } finally {
      await other.close();
    }
  });

  test('a gateway without an audit store answers the audit routes 404', async () => {
    const other = await w.startApi({});
    try {
      assert.match(errorOf(await get('/sluice/v1/audit/events', 'alice', other.url), 404, 'REQUEST_INVALID'), /does not serve its audit trail/);
    } finally {
      await other.close();
    }
  });
});
