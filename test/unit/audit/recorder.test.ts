import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { createAuditRecorder } from '../../../src/audit/recorder.ts';
import type { AuditBegin } from '../../../src/audit/types.ts';
import { openSqliteAuditStore } from '../../../src/store/sqlite/open-sqlite-audit-store.ts';
import { createMemoryAuditStore } from '../../../src/store/memory/memory-audit-store.ts';
import { SluiceError } from '../../../src/core/errors.ts';
import { auditEntry } from '../store/audit-store.conformance.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-recorder-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const frozen = new Date('2026-01-10T12:00:05.000Z');
const unavailable = (e: unknown): boolean => {
  assert.ok(e instanceof SluiceError, String(e));
  assert.equal(e.code, 'STORE_UNAVAILABLE');
  return true;
};
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';

test('commit is durable when it resolves: a second connection sees the row; complete updates it', async () => {
  const path = join(dir, 'durable', 'sluice.db');
  const recorder = createAuditRecorder(await openSqliteAuditStore({ path }), { now: () => frozen });
  const e = auditEntry();
  const handle = recorder.begin(e);
  await handle.commit();

  const other = new Database(path, { readonly: true });
  const row = other.prepare('select * from audit_events where id = ?').get(e.id) as Record<string, unknown>;
  assert.equal(row.principal_username, 'alice');
  assert.equal(row.verb, 'get');
  assert.equal(row.decision, 'allow');
  assert.equal(row.completed_at, null);

  await handle.complete({ status: 200, bytesIn: 10, bytesOut: 2048, durationMs: 12.6 });
  const done = other.prepare('select status, bytes_in, bytes_out, duration_ms, completed_at from audit_events where id = ?').get(e.id);
  assert.deepEqual(done, { status: 200, bytes_in: 10, bytes_out: 2048, duration_ms: 13, completed_at: frozen.getTime() });
  other.close();

  assert.equal(handle.complete({ status: 500, bytesIn: 0, bytesOut: 0, durationMs: 1 }), handle.complete({ status: 200, bytesIn: 0, bytesOut: 0, durationMs: 1 }), 'complete is idempotent');
  await recorder.close();
  const reopened = await openSqliteAuditStore({ path, readonly: true });
  assert.equal((await reopened.get(e.id))!.outcome!.status, 200);
  await reopened.close();
});

test('a store that cannot be written makes commit and complete reject with STORE_UNAVAILABLE (fail closed)', async () => {
  const path = join(dir, 'ro', 'sluice.db');
  await (await openSqliteAuditStore({ path })).close();
  const recorder = createAuditRecorder(await openSqliteAuditStore({ path, readonly: true }));
  await assert.rejects(recorder.begin(auditEntry()).commit(), unavailable);
  await assert.rejects(recorder.begin(auditEntry()).complete({ status: 200, bytesIn: 0, bytesOut: 0, durationMs: 1 }), unavailable);
  await recorder.close();

  const mem = createMemoryAuditStore();
  const r2 = createAuditRecorder(mem);
  const h = r2.begin(auditEntry());
  await h.commit();
  mem.failWith = 'disk full';
  await assert.rejects(r2.begin(auditEntry()).commit(), unavailable);
  await assert.rejects(h.complete({ status: 200, bytesIn: 0, bytesOut: 0, durationMs: 1 }), unavailable);
  await r2.close();
});

test('a store locked by another process past the busy timeout makes commit reject', async () => {
  const path = join(dir, 'locked', 'sluice.db');
  const recorder = createAuditRecorder(await openSqliteAuditStore({ path, busyTimeoutMs: 20 }));
  const other = new Database(path);
  other.exec('begin exclusive');
  await assert.rejects(recorder.begin(auditEntry()).commit(), unavailable);
  other.exec('rollback');
  other.close();
  await recorder.close();
});

test('after close, writes reject with STORE_UNAVAILABLE and the store is closed', async () => {
  const mem = createMemoryAuditStore();
  const recorder = createAuditRecorder(mem);
  await recorder.close();
  await assert.rejects(recorder.begin(auditEntry()).commit(), unavailable);
  await assert.rejects(recorder.begin(auditEntry()).complete({ status: 200, bytesIn: 0, bytesOut: 0, durationMs: 1 }), unavailable);
  await assert.rejects(mem.list(), unavailable);
});

test('close waits for writes in flight', async () => {
  const mem = createMemoryAuditStore();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const insert = mem.insert.bind(mem);
  mem.insert = async (e, c) => {
    await gate;
    return insert(e, c);
  };
  const recorder = createAuditRecorder(mem, { closeStore: false });
  const e = auditEntry();
  const begun = recorder.begin(e).commit();
  const closing = recorder.close();
  release();
  await begun;
  await closing;
  assert.ok(await mem.get(e.id));
});

test('ids must be gateway-generated UUID v4s, codes known, times valid', async () => {
  const recorder = createAuditRecorder(createMemoryAuditStore());
  assert.throws(() => recorder.begin({ ...auditEntry(), id: 'client-supplied-id' }), TypeError);
  assert.throws(() => recorder.begin({ ...auditEntry(), id: randomUUID().toUpperCase() }), TypeError);
  assert.throws(() => recorder.begin({ ...auditEntry(), code: 'made.up' as AuditBegin['code'] }), TypeError);
  assert.throws(() => recorder.begin({ ...auditEntry(), time: new Date(NaN) }), TypeError);
  const h = recorder.begin(auditEntry());
  await assert.rejects(h.complete({ status: -1, bytesIn: 0, bytesOut: 0, durationMs: 0 }), TypeError);
  await assert.rejects(h.complete({ status: 200, bytesIn: NaN, bytesOut: 0, durationMs: 0 }), TypeError);
  await recorder.close();
});

test('records never carry tokens: access_token is stripped, JWTs and bearer tokens are redacted', async () => {
  const mem = createMemoryAuditStore();
  const warnings: unknown[] = [];
  const log = { warn: (o: unknown) => warnings.push(o), error: () => undefined } as never;
  const recorder = createAuditRecorder(mem, { log });
  const e = auditEntry({
    query: `watch=1&access_token=${JWT}&ACCESS%5FTOKEN=x&labelSelector=app%3Dweb`,
    userAgent: `curl/8 ${JWT}`,
    error: { code: 'AUTHN_INVALID', message: `bad token Bearer abcdefghijklmnop` },
  });
  const h = recorder.begin(e);
  await h.complete({ status: 401, bytesIn: 0, bytesOut: 0, durationMs: 1, error: { code: 'X', message: `upstream said ${JWT}` } });
  const r = (await mem.get(e.id))!;
  assert.equal(r.query, 'watch=1&labelSelector=app%3Dweb');
  assert.equal(r.userAgent, 'curl/8 [redacted]');
  assert.equal(r.error!.message, 'bad token Bearer [redacted]');
  assert.equal(r.outcome!.error!.message, 'upstream said [redacted]');
  assert.doesNotMatch(JSON.stringify(r), /eyJ|abcdefghijklmnop/);
  assert.deepEqual(warnings, [{ requestId: e.id, fields: ['query', 'userAgent', 'error.message'] }]);
  await recorder.close();
});

test('a request body passed by mistake is not stored', async () => {
  const mem = createMemoryAuditStore();
  const recorder = createAuditRecorder(mem);
  const e = auditEntry();
  const withBody = { ...e, attributes: { ...e.attributes!, object: { kind: 'Secret', data: { password: 'aHVudGVyMg==' } } } } as AuditBegin;
  await recorder.begin(withBody).commit();
  assert.doesNotMatch(JSON.stringify(await mem.get(e.id)), /aHVudGVyMg|Secret/);
  await recorder.close();
});

test('complete without commit writes record and outcome in one insert; after a commit it updates the row', async () => {
  const mem = createMemoryAuditStore();
  const calls: string[] = [];
  const insert = mem.insert.bind(mem);
  const complete = mem.complete.bind(mem);
  mem.insert = (e, c) => (calls.push(c ? 'insert+outcome' : 'insert'), insert(e, c));
  mem.complete = (id, c) => (calls.push('complete'), complete(id, c));
  const recorder = createAuditRecorder(mem, { now: () => frozen });

  const read = auditEntry();
  await recorder.begin(read).complete({ status: 200, bytesIn: 0, bytesOut: 812, durationMs: 3 });
  assert.deepEqual(calls, ['insert+outcome']);
  assert.deepEqual((await mem.get(read.id))!.outcome, { status: 200, bytesIn: 0, bytesOut: 812, durationMs: 3, completedAt: frozen });

  calls.length = 0;
  const write = auditEntry();
  const h = recorder.begin(write);
  assert.equal(h.commit(), h.commit(), 'commit is idempotent');
  await h.commit();
  await h.complete({ status: 201, bytesIn: 90, bytesOut: 400, durationMs: 5 });
  assert.deepEqual(calls, ['insert', 'complete']);
  assert.equal((await mem.get(write.id))!.outcome!.status, 201);

  // A commit that failed leaves nothing behind: complete writes the whole record once the store is back.
  calls.length = 0;
  const failed = auditEntry();
  mem.failWith = 'disk full';
  const h2 = recorder.begin(failed);
  await assert.rejects(h2.commit(), unavailable);
  mem.failWith = undefined;
  await h2.complete({ status: 503, bytesIn: 0, bytesOut: 0, durationMs: 1 });
  assert.deepEqual(calls, ['insert', 'insert+outcome']);
  assert.equal((await mem.get(failed.id))!.outcome!.status, 503);
  await recorder.close();
});

test('masking counts are kept as counts: names cut and redacted, non-positive or non-finite counts dropped', async () => {
  const store = createMemoryAuditStore();
  const recorder = createAuditRecorder(store);
  const e = auditEntry();
  const jwtLike = `eyJ${'a'.repeat(20)}.${'b'.repeat(20)}.${'c'.repeat(20)}`;
  await recorder.begin(e).complete({
    status: 200,
    bytesIn: 0,
    bytesOut: 10,
    durationMs: 1,
    masking: { fields: { 'Secret data': 3, [`ConfigMap data.${jwtLike}`]: 1, never: 0, broken: Number.NaN }, detectors: { jwt: 2.4, ['x'.repeat(500)]: 1 }, oversizeLines: 0 },
  });
  const m = (await store.get(e.id))!.outcome!.masking!;
  assert.equal(m.fields['Secret data'], 3);
  assert.ok(!JSON.stringify(m).includes(jwtLike), 'a token-looking key is redacted');
  assert.equal(m.fields.never, undefined);
  assert.equal(m.fields.broken, undefined);
  assert.equal(m.detectors.jwt, 2);
  assert.ok(Object.keys(m.detectors).every((k) => k.length <= 200));
  assert.equal(m.oversizeLines, undefined);
});
