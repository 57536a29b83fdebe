/**
 * The conformance suite of the AuditStore port (docs: src/store/audit-store.ts). Every adapter
 * runs it: `auditStoreConformance('sqlite', () => openSqliteAuditStore(...))`. A new adapter
 * (PostgreSQL) passes it before it is used.
 */
import { describe, test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AuditBegin, AuditCompletion } from '../../../src/audit/types.ts';
import type { AuditStore } from '../../../src/store/audit-store.ts';
import { SluiceError } from '../../../src/core/errors.ts';

const T0 = Date.parse('2026-01-10T12:00:00.000Z');
const alice = { issuer: 'https://idp.example', subject: 'u-1', username: 'alice', groups: ['dev', 'oncall'], kind: 'person' as const };
const bot = { issuer: 'https://idp.example', subject: 'm-1', username: 'ci-bot', groups: [], kind: 'machine' as const };

export function auditEntry(over: Partial<AuditBegin> & { minute?: number; verb?: string; namespace?: string } = {}): AuditBegin {
  const { minute = 0, verb = 'get', namespace = 'dev', ...rest } = over;
  return {
    id: randomUUID(),
    time: new Date(T0 + minute * 60_000),
    code: 'kubernetes.request',
    principal: alice,
    connection: 'demo',
    method: verb === 'delete' ? 'DELETE' : 'GET',
    path: `/api/v1/namespaces/${namespace}/pods/web-1`,
    query: 'pretty=true',
    userAgent: 'kubectl/v1.32.0',
    sourceIp: '127.0.0.1',
    attributes: {
      connection: 'demo',
      verb,
      apiGroup: '',
      apiVersion: 'v1',
      resource: 'pods',
      subresource: '',
      namespace,
      name: 'web-1',
      isResourceRequest: true,
      path: `/api/v1/namespaces/${namespace}/pods/web-1`,
    },
    decision: { effect: 'allow', rules: ['dev-read'], message: '', policyDigest: 'sha256:abc' },
    ...rest,
  };
}

const completion: AuditCompletion = { status: 200, bytesIn: 0, bytesOut: 1234, durationMs: 17, completedAt: new Date(T0 + 1000) };

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof SluiceError, `expected a SluiceError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

export function auditStoreConformance(name: string, open: () => Promise<AuditStore>): void {
  describe(`AuditStore conformance: ${name}`, () => {
    let store: AuditStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    test('insert then get returns the record as written, with a seq and no outcome', async () => {
      const e = auditEntry();
      await store.insert(e);
      const r = await store.get(e.id);
      assert.ok(r);
      assert.equal(typeof r.seq, 'number');
      const { seq: _seq, ...rest } = r;
      assert.deepEqual(rest, e);
      assert.equal(r.outcome, undefined);
    });

    test('records without principal, attributes, decision or user agent round-trip', async () => {
      const e: AuditBegin = {
        id: randomUUID(),
        time: new Date(T0),
        code: 'authn.failed',
        principal: null,
        connection: 'demo',
        method: 'GET',
        path: '/api',
        query: '',
        sourceIp: '::1',
        error: { code: 'AUTHN_INVALID', message: 'token expired' },
      };
      await store.insert(e);
      const { seq: _s, ...rest } = (await store.get(e.id))!;
      assert.deepEqual(rest, e);
      const m = auditEntry({ principal: bot, decision: { effect: 'deny', rules: [], message: 'no rule allows', policyDigest: '' } });
      m.attributes = { ...m.attributes!, isResourceRequest: false, resource: '', namespace: '', name: '', verb: 'get', path: '/version' };
      await store.insert(m);
      const { seq: _s2, ...rest2 } = (await store.get(m.id))!;
      assert.deepEqual(rest2, m);
    });

    test('get of an unknown id is undefined', async () => {
      assert.equal(await store.get(randomUUID()), undefined);
    });

    test('a duplicate id is refused and the first record stays', async () => {
      const e = auditEntry();
      await store.insert(e);
      await rejectsWith(store.insert({ ...e, path: '/other' }), 'STORE_UNAVAILABLE');
      assert.equal((await store.get(e.id))!.path, e.path);
    });

    test('complete sets the outcome once', async () => {
      const e = auditEntry();
      await store.insert(e);
      assert.equal(await store.complete(e.id, completion), true);
      assert.deepEqual((await store.get(e.id))!.outcome, completion);
      assert.equal(await store.complete(e.id, { ...completion, status: 500 }), false, 'a second completion is refused');
      assert.equal((await store.get(e.id))!.outcome!.status, 200);
      assert.equal(await store.complete(randomUUID(), completion), false, 'unknown id');
    });

    test('approval id and detail round-trip, and approvalId filters', async () => {
      const approvalId = randomUUID();
      const e = { ...auditEntry(), approvalId, detail: { vote: 'approve', reason: 'ok', n: 2, nested: { a: [1] } } };
      await store.insert(e);
      const { seq: _s, ...rest } = (await store.get(e.id))!;
      assert.deepEqual(rest, e);
      await store.insert(auditEntry());
      const page = await store.list({ approvalId });
      assert.deepEqual(page.records.map((r) => r.id), [e.id]);
    });

    test('insert with a completion writes the whole record at once', async () => {
      const e = auditEntry();
      const c = { ...completion, status: 404, error: { code: 'STREAM_ABORTED', message: 'client went away' } };
      await store.insert(e, c);
      const { seq: _s, ...rest } = (await store.get(e.id))!;
      assert.deepEqual(rest, { ...e, outcome: c });
      assert.equal(await store.complete(e.id, completion), false, 'it is complete already');
      assert.equal((await store.get(e.id))!.outcome!.status, 404);
    });

    test('masking counts round-trip, on complete and on insert with a completion', async () => {
      const e = auditEntry();
      await store.insert(e);
      const c = { ...completion, masking: { fields: { 'Secret data': 3 }, detectors: { jwt: 1 }, oversizeLines: 2 } };
      await store.complete(e.id, c);
      assert.deepEqual((await store.get(e.id))!.outcome, c);
      const e2 = auditEntry();
      const c2 = { ...completion, masking: { fields: {}, detectors: {}, lifted: ['sre/secrets-dev-unmasked'] } };
      await store.insert(e2, c2);
      assert.deepEqual((await store.get(e2.id))!.outcome, c2);
    });

    test('an outcome error round-trips', async () => {
      const e = auditEntry();
      await store.insert(e);
      const c = { ...completion, status: 502, error: { code: 'UPSTREAM_UNAVAILABLE', message: 'connection refused' } };
      await store.complete(e.id, c);
      assert.deepEqual((await store.get(e.id))!.outcome, c);
    });

    test('an outcome detail round-trips, completed later or inserted with the record, and the trail commits to it', async () => {
      const e = auditEntry();
      await store.insert(e);
      const c = { ...completion, detail: { decision: { effect: 'review', rules: ['r1'] }, requests: [{ id: 'x', status: 200 }] } };
      await store.complete(e.id, c);
      assert.deepEqual((await store.get(e.id))!.outcome, c);
      const events = await store.trailOf(e.id);
      assert.match(events.at(-1)!.event, /"requests":\[\{"id":"x","status":200\}\]/);
      const e2 = auditEntry();
      await store.insert(e2, c);
      assert.deepEqual((await store.get(e2.id))!.outcome, c);
    });

    test('list is newest first by time, ties in insertion order reversed', async () => {
      const a = auditEntry({ minute: 1 });
      const b = auditEntry({ minute: 3 });
      const c = auditEntry({ minute: 2 });
      const d = auditEntry({ minute: 3 });
      for (const e of [a, b, c, d]) await store.insert(e);
      const page = await store.list();
      assert.deepEqual(page.records.map((r) => r.id), [d.id, b.id, c.id, a.id]);
      assert.equal(page.next, undefined);
    });

    test('list of an empty store is empty', async () => {
      assert.deepEqual(await store.list(), { records: [] });
    });

    test('filters: user, verb, namespace, decision, code, connection, id prefix', async () => {
      const get = auditEntry({ minute: 1 });
      const del = auditEntry({ minute: 2, verb: 'delete', namespace: 'prod', decision: { effect: 'deny', rules: ['no-prod-delete'], message: 'no', policyDigest: 'x' } });
      const review = auditEntry({ minute: 3, verb: 'delete', decision: { effect: 'review', rules: ['r'], message: 'wait', policyDigest: 'x' }, principal: bot, connection: 'other' });
      const failed: AuditBegin = { ...auditEntry({ minute: 4 }), code: 'authn.failed', principal: null, attributes: undefined, decision: undefined };
      delete failed.attributes;
      delete failed.decision;
      for (const e of [get, del, review, failed]) await store.insert(e);
      const ids = async (f: Parameters<AuditStore['list']>[0]): Promise<string[]> => (await store.list(f)).records.map((r) => r.id);
      assert.deepEqual(await ids({ user: 'alice' }), [del.id, get.id]);
      assert.deepEqual(await ids({ user: 'ci-bot' }), [review.id]);
      assert.deepEqual(await ids({ user: 'nobody' }), []);
      assert.deepEqual(await ids({ verb: 'delete' }), [review.id, del.id]);
      assert.deepEqual(await ids({ namespace: 'prod' }), [del.id]);
      assert.deepEqual(await ids({ namespace: 'dev' }), [review.id, get.id]);
      assert.deepEqual(await ids({ decision: 'deny' }), [del.id]);
      assert.deepEqual(await ids({ decision: 'review' }), [review.id]);
      assert.deepEqual(await ids({ decision: 'allow' }), [get.id]);
      assert.deepEqual(await ids({ code: 'authn.failed' }), [failed.id]);
      assert.deepEqual(await ids({ connection: 'other' }), [review.id]);
      assert.deepEqual(await ids({ verb: 'delete', user: 'alice' }), [del.id]);
      assert.deepEqual(await ids({ idPrefix: del.id.slice(0, 13) }), [del.id]);
      assert.deepEqual(await ids({ idPrefix: del.id }), [del.id]);
    });

    test('time filters: since is inclusive, until exclusive', async () => {
      const es = [0, 1, 2, 3].map((minute) => auditEntry({ minute }));
      for (const e of es) await store.insert(e);
      const at = (m: number): Date => new Date(T0 + m * 60_000);
      const ids = async (f: Parameters<AuditStore['list']>[0]): Promise<string[]> => (await store.list(f)).records.map((r) => r.id);
      assert.deepEqual(await ids({ since: at(2) }), [es[3]!.id, es[2]!.id]);
      assert.deepEqual(await ids({ until: at(2) }), [es[1]!.id, es[0]!.id]);
      assert.deepEqual(await ids({ since: at(1), until: at(3) }), [es[2]!.id, es[1]!.id]);
      assert.deepEqual(await ids({ since: at(5) }), []);
    });

    test('limit: default 50, at most 1000; the cursor pages through without gaps or repeats', async () => {
      const es = Array.from({ length: 57 }, (_, i) => auditEntry({ minute: Math.floor(i / 3) })); // ties on purpose
      for (const e of es) await store.insert(e);
      const first = await store.list();
      assert.equal(first.records.length, 50);
      assert.ok(first.next);
      const seen: string[] = [];
      let before: string | undefined;
      do {
        const page = await store.list({ limit: 10, ...(before ? { before } : {}) });
        assert.ok(page.records.length <= 10);
        seen.push(...page.records.map((r) => r.id));
        before = page.next;
      } while (before);
      assert.equal(seen.length, 57);
      assert.equal(new Set(seen).size, 57);
      assert.deepEqual(seen, first.records.map((r) => r.id).concat(seen.slice(50)));
      const times = (await store.list({ limit: 1000 })).records.map((r) => r.time.getTime());
      assert.deepEqual(times, [...times].sort((x, y) => y - x));
      const exact = await store.list({ limit: 57 });
      assert.equal(exact.records.length, 57);
      assert.equal(exact.next, undefined, 'no cursor when nothing follows');
    });

    test('the cursor combines with filters', async () => {
      const es = Array.from({ length: 9 }, (_, i) => auditEntry({ minute: i, namespace: i % 2 ? 'prod' : 'dev' }));
      for (const e of es) await store.insert(e);
      const p1 = await store.list({ namespace: 'prod', limit: 2 });
      const p2 = await store.list({ namespace: 'prod', limit: 2, before: p1.next! });
      assert.deepEqual([...p1.records, ...p2.records].map((r) => r.id), [es[7]!.id, es[5]!.id, es[3]!.id, es[1]!.id]);
      assert.equal(p2.next, undefined);
    });

    test('group filter: one element of principal.groups, exactly', async () => {
      const dev = auditEntry({ minute: 1 }); // alice: dev, oncall
      const tricky = auditEntry({ minute: 2, principal: { ...alice, subject: 'u-2', username: 'eve', groups: ['dev-ops', 'x","dev', 'Oncall', '100%_\\'] } });
      const none = auditEntry({ minute: 3, principal: bot });
      const failed: AuditBegin = { ...auditEntry({ minute: 4 }), code: 'authn.failed', principal: null };
      for (const e of [dev, tricky, none, failed]) await store.insert(e);
      const ids = async (group: string): Promise<string[]> => (await store.list({ group })).records.map((r) => r.id);
      assert.deepEqual(await ids('dev'), [dev.id], 'not dev-ops, not a "dev" inside another element');
      assert.deepEqual(await ids('oncall'), [dev.id], 'case-sensitive');
      assert.deepEqual(await ids('Oncall'), [tricky.id]);
      assert.deepEqual(await ids('x","dev'), [tricky.id]);
      assert.deepEqual(await ids('100%_\\'), [tricky.id]);
      assert.deepEqual(await ids('%'), []);
      assert.deepEqual(await ids('de'), []);
      assert.deepEqual(await ids('["dev","oncall"]'), []);
      assert.deepEqual((await store.list({ group: 'dev', user: 'alice' })).records.map((r) => r.id), [dev.id]);
    });

    test('resource filter: a resource with its subresources, or one subresource', async () => {
      const pod = auditEntry({ minute: 1 });
      const exec = auditEntry({ minute: 2 });
      exec.attributes = { ...exec.attributes!, subresource: 'exec' };
      const log = auditEntry({ minute: 3 });
      log.attributes = { ...log.attributes!, subresource: 'log' };
      const deploy = auditEntry({ minute: 4 });
      deploy.attributes = { ...deploy.attributes!, apiGroup: 'apps', resource: 'deployments' };
      const nonResource = auditEntry({ minute: 5 });
      nonResource.attributes = { ...nonResource.attributes!, isResourceRequest: false, resource: '', name: '', namespace: '', path: '/version' };
      for (const e of [pod, exec, log, deploy, nonResource]) await store.insert(e);
      const ids = async (resource: string): Promise<string[]> => (await store.list({ resource })).records.map((r) => r.id);
      assert.deepEqual(await ids('pods'), [log.id, exec.id, pod.id]);
      assert.deepEqual(await ids('pods/exec'), [exec.id]);
      assert.deepEqual(await ids('pods/log'), [log.id]);
      assert.deepEqual(await ids('deployments'), [deploy.id]);
      assert.deepEqual(await ids('pod'), [], 'exact, not a prefix');
      assert.deepEqual(await ids('pods/ex'), []);
      assert.deepEqual(await ids('%'), []);
    });

    test('text filter: case-insensitive substring of path or query, exec commands in their query encoding', async () => {
      const get = auditEntry({ minute: 1 }); // path /api/v1/namespaces/dev/pods/web-1, query pretty=true
      const exec = auditEntry({ minute: 2, path: '/api/v1/namespaces/dev/pods/web-1/exec', query: 'command=cat&command=%2Fetc%2Fpasswd&container=app&stdout=true' });
      const sh = auditEntry({ minute: 3, path: '/api/v1/namespaces/dev/pods/db-0/exec', query: 'command=sh&command=-c&command=rm+-rf+%2Ftmp%2Fx&stdin=true' });
      const odd = auditEntry({ minute: 4, path: '/api/v1/namespaces/dev/configmaps/100%_done', query: 'labelSelector=a%3Db' });
      for (const e of [get, exec, sh, odd]) await store.insert(e);
      const ids = async (text: string): Promise<string[]> => (await store.list({ text })).records.map((r) => r.id);
      assert.deepEqual(await ids('WEB-1'), [exec.id, get.id], 'path, case-insensitive');
      assert.deepEqual(await ids('pretty'), [get.id], 'query');
      assert.deepEqual(await ids('/etc/passwd'), [exec.id], 'an exec argument in its query encoding');
      assert.deepEqual(await ids('passwd'), [exec.id]);
      assert.deepEqual(await ids('cat /etc/passwd'), [exec.id], 'separate arguments');
      assert.deepEqual(await ids('rm -rf /tmp'), [sh.id], 'one argument with spaces');
      assert.deepEqual(await ids('-c rm'), [sh.id]);
      assert.deepEqual(await ids('100%_'), [odd.id], '% and _ are plain characters');
      assert.deepEqual(await ids('%'), [odd.id, sh.id, exec.id], 'a literal %, in the path or an encoded query');
      assert.deepEqual(await ids('_'), [odd.id]);
      assert.deepEqual(await ids('100__'), []);
      assert.deepEqual(await ids('\\'), [], 'the escape character is a plain character too');
      assert.deepEqual(await ids("' or 1=1 --"), []);
      assert.deepEqual(await ids('nothing-like-this'), []);
      assert.deepEqual((await store.list({ text: 'exec', namespace: 'dev', limit: 1 })).records.map((r) => r.id), [sh.id], 'combines with other filters');
    });

    test('principal filter: exact issuer and subject, whatever the username', async () => {
      const mine = auditEntry({ minute: 1 });
      const renamed = auditEntry({ minute: 2, principal: { ...alice, username: 'alice2' } });
      const otherIssuer = auditEntry({ minute: 3, principal: { ...alice, issuer: 'https://other.example' } });
      const otherSubject = auditEntry({ minute: 4, principal: { ...alice, subject: 'u-1x' } });
      const anonymous: AuditBegin = { ...auditEntry({ minute: 5 }), code: 'authn.failed', principal: null };
      for (const e of [mine, renamed, otherIssuer, otherSubject, anonymous]) await store.insert(e);
      const ids = async (f: Parameters<AuditStore['list']>[0]): Promise<string[]> => (await store.list(f)).records.map((r) => r.id);
      assert.deepEqual(await ids({ principal: { issuer: alice.issuer, subject: alice.subject } }), [renamed.id, mine.id]);
      assert.deepEqual(await ids({ principal: { issuer: alice.issuer, subject: alice.subject }, user: 'alice' }), [mine.id]);
      assert.deepEqual(await ids({ principal: { issuer: 'https://other.example', subject: 'u-1' } }), [otherIssuer.id]);
      assert.deepEqual(await ids({ principal: { issuer: alice.issuer, subject: 'u-%' } }), []);
    });

    test('bad text filters are AUDIT_QUERY_INVALID: too long, control characters, malformed', async () => {
      const long = 'x'.repeat(257);
      for (const f of [
        { user: long },
        { group: long },
        { text: long },
        { namespace: 'dev\nprod' },
        { text: 'a\u0000b' },
        { group: 'dev\u007f' },
        { text: '' },
        { resource: 'pods/exec/x' },
        { resource: '/pods' },
        { resource: 'pods exec' },
        { decision: 'maybe' as 'allow' },
        { principal: { issuer: '', subject: 'u-1' } },
        { principal: { issuer: 'https://idp.example', subject: 'x'.repeat(257) } },
      ]) {
        await rejectsWith(store.list(f), 'AUDIT_QUERY_INVALID');
      }
      assert.deepEqual((await store.list({ text: 'x'.repeat(256) })).records, [], 'at the cap is fine');
    });

    test('bad filters are AUDIT_QUERY_INVALID', async () => {
      await rejectsWith(store.list({ limit: 0 }), 'AUDIT_QUERY_INVALID');
      await rejectsWith(store.list({ limit: 1001 }), 'AUDIT_QUERY_INVALID');
      await rejectsWith(store.list({ limit: 2.5 }), 'AUDIT_QUERY_INVALID');
      await rejectsWith(store.list({ before: 'garbage' }), 'AUDIT_QUERY_INVALID');
      await rejectsWith(store.list({ since: new Date('nope') }), 'AUDIT_QUERY_INVALID');
      await rejectsWith(store.list({ idPrefix: "a' or 1=1 --" }), 'AUDIT_QUERY_INVALID');
      await rejectsWith(store.list({ idPrefix: '%' }), 'AUDIT_QUERY_INVALID');
    });

    test('filter values are data, not SQL or patterns', async () => {
      const e = auditEntry();
      await store.insert(e);
      assert.deepEqual((await store.list({ user: "alice' or '1'='1" })).records, []);
      assert.deepEqual((await store.list({ namespace: '%' })).records, []);
      assert.deepEqual((await store.list({ user: 'ALICE' })).records, [], 'exact, case-sensitive');
    });

    test('returned records are copies', async () => {
      const e = auditEntry();
      await store.insert(e);
      e.path = '/mutated';
      const r = (await store.get(e.id))!;
      assert.notEqual(r.path, '/mutated');
      r.principal!.username = 'mallory';
      assert.equal((await store.get(e.id))!.principal!.username, 'alice');
    });

    test('a closed store refuses every operation with STORE_UNAVAILABLE', async () => {
      const e = auditEntry();
      await store.insert(e);
      await store.close();
      await rejectsWith(store.insert(auditEntry()), 'STORE_UNAVAILABLE');
      await rejectsWith(store.get(e.id), 'STORE_UNAVAILABLE');
      await rejectsWith(store.list(), 'STORE_UNAVAILABLE');
      await rejectsWith(store.complete(e.id, completion), 'STORE_UNAVAILABLE');
      await store.close(); // idempotent
    });
  });
}
