/**
 * The SQLite store's trail writer beyond the port's conformance: its run's own events
 * (`trail.opened`/`closed`, `request.abandoned` after a crash, `trail.key`), signed checkpoints
 * that verify-trail.ts accepts, tampering found at the right seq, a failed batch that leaves no
 * hole, and a second writer on the same file failing closed.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteAuditStore } from '../../../src/store/sqlite/open-sqlite-audit-store.ts';
import type { AuditStore, StoredTrailEvent } from '../../../src/store/audit-store.ts';
import { ephemeralSigner, parseTrustedKeys, publicKeyPem } from '../../../src/audit/trail/signing-key.ts';
import { verifyTrail } from '../../../src/audit/trail/verify-trail.ts';
import { SluiceError } from '../../../src/core/errors.ts';
import { auditEntry } from './audit-store.conformance.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-trail-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const dbPath = (): string => join(dir, `t${++n}`, 'sluice.db');

const testSigner = ephemeralSigner;

const done = { status: 200, bytesIn: 0, bytesOut: 5, durationMs: 1, completedAt: new Date('2026-01-10T12:00:01Z') };

async function events(store: AuditStore): Promise<StoredTrailEvent[]> {
  const out: StoredTrailEvent[] = [];
  for await (const e of store.trail()) out.push(e);
  return out;
}

test('a run opens with trail.opened, trail.key and a checkpoint, and closes with trail.closed and a checkpoint; all of it verifies', async () => {
  const path = dbPath();
  const signer = testSigner();
  let store = await openSqliteAuditStore({ path, trail: { signer } });
  await store.insert(auditEntry(), done);
  await store.close();
  store = await openSqliteAuditStore({ path, trail: { signer } });
  const evs = await events(store);
  assert.deepEqual(
    evs.map((e) => e.type),
    ['trail.opened', 'trail.key', 'trail.checkpoint', 'request.begin', 'request.outcome', 'trail.closed', 'trail.checkpoint', 'trail.opened', 'trail.checkpoint'],
    'the key is announced once',
  );
  const reopened = JSON.parse(evs[7]!.event) as { previous: { seq: number }; unclean?: boolean };
  assert.equal(reopened.previous.seq, 7);
  assert.equal(reopened.unclean, undefined, 'the last run closed cleanly');
  const report = await verifyTrail(evs, { trustedKeys: parseTrustedKeys(publicKeyPem(signer)) });
  assert.equal(report.ok, true, report.failure?.message);
  assert.equal(report.checkpoints, 3);
  assert.equal(report.unsignedTail, 0);
  await store.close();
});

test('a checkpoint follows every checkpointEvents events', async () => {
  const signer = testSigner();
  const store = await openSqliteAuditStore({ path: dbPath(), trail: { signer, checkpointEvents: 10, checkpointSeconds: 0 } });
  for (let i = 0; i < 12; i++) await store.insert(auditEntry({ minute: i }), done);
  const evs = await events(store);
  const cps = evs.filter((e) => e.type === 'trail.checkpoint').map((e) => JSON.parse(e.event) as { checkpoint: { fromSeq: number; toSeq: number; count: number } });
  assert.ok(cps.length >= 3, `checkpoints: ${cps.length}`);
  for (const { checkpoint: c } of cps.slice(1)) assert.ok(c.count <= 11, `a checkpoint covers at most a batch past the count (covered ${c.count})`);
  const report = await verifyTrail(evs, { trustedKeys: parseTrustedKeys(publicKeyPem(signer)) });
  assert.equal(report.ok, true, report.failure?.message);
  await store.close();
});

test('flipping one byte of a stored event is found at that seq; deleting a row is found where it was', async () => {
  const path = dbPath();
  const signer = testSigner();
  const store = await openSqliteAuditStore({ path, trail: { signer } });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const e = auditEntry({ minute: i });
    ids.push(e.id);
    await store.insert(e, done);
  }
  await store.close();
  const db = new Database(path);
  const target = db.prepare('select seq, event from trail where ref = ? and type = ?').get(ids[2], 'request.begin') as { seq: number; event: string };
  db.prepare('update trail set event = ? where seq = ?').run(target.event.replace('"GET"', '"PUT"'), target.seq);
  db.close();
  const keys = parseTrustedKeys(publicKeyPem(signer));
  const read = await openSqliteAuditStore({ path, readonly: true });
  let report = await verifyTrail(read.trail(), { trustedKeys: keys });
  assert.equal(report.ok, false);
  assert.equal(report.failure?.seq, target.seq);
  assert.equal(report.failure?.kind, 'edited');
  await read.close();

  const db2 = new Database(path);
  db2.prepare('update trail set event = ? where seq = ?').run(target.event, target.seq);
  db2.prepare('delete from trail where seq = ?').run(target.seq + 1);
  db2.close();
  const read2 = await openSqliteAuditStore({ path, readonly: true });
  report = await verifyTrail(read2.trail(), { trustedKeys: keys });
  assert.equal(report.ok, false);
  assert.equal(report.failure?.kind, 'missing');
  assert.equal(report.failure?.seq, target.seq + 1, 'reported at the seq that is gone');
  await read2.close();
});

test('when a trail insert fails, the whole batch is rejected and the next write leaves no hole', async () => {
  const path = dbPath();
  const store = await openSqliteAuditStore({ path });
  const bad = auditEntry();
  const db = new Database(path);
  db.exec(`create trigger refuse_one before insert on trail when new.ref = '${bad.id}' begin select raise(abort, 'refused by test trigger'); end`);
  const head = (await events(store)).at(-1)!.seq;
  const batch = [auditEntry(), bad, auditEntry()];
  const results = await Promise.allSettled(batch.map((e) => store.insert(e)));
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected', 'rejected'],
  );
  for (const r of results) assert.ok(r.status === 'rejected' && r.reason instanceof SluiceError && r.reason.code === 'STORE_UNAVAILABLE');
  assert.equal(await store.get(batch[0]!.id), undefined, 'no projection row of the batch survived');
  const ok = auditEntry();
  await store.insert(ok);
  const evs = await events(store);
  assert.equal(evs.at(-1)!.seq, head + 1);
  assert.equal(evs.at(-1)!.ref, ok.id);
  db.close();
  await store.close();
});

test('a second writer on the same file fails closed: its writes are refused once the trail moved under it', async () => {
  const path = dbPath();
  const a = await openSqliteAuditStore({ path });
  const b = await openSqliteAuditStore({ path }); // its trail.opened moved the head under `a`
  await assert.rejects(a.insert(auditEntry()), (e) => e instanceof SluiceError && e.code === 'STORE_UNAVAILABLE' && /changed under this gateway/.test(e.message));
  await assert.rejects(a.insert(auditEntry()), (e) => e instanceof SluiceError && /restart the gateway/.test(e.message), 'and it stays refused');
  await b.insert(auditEntry());
  const evs = await events(b);
  evs.forEach((e, i) => assert.equal(e.seq, i + 1));
  await a.close();
  await b.close();
});

test('after a crash, the next run is marked unclean and closes the requests left open with request.abandoned, committing to their chunks as the last segment did', async () => {
  const path = dbPath();
  const e = auditEntry({ verb: 'watch' });
  // A gateway that is killed (no close) after a begin and a segment of a watch.
  const script = `
    import { openSqliteAuditStore } from ${JSON.stringify(new URL('../../../src/store/sqlite/open-sqlite-audit-store.ts', import.meta.url).pathname)};
    import { digestChunks } from ${JSON.stringify(new URL('../../../src/audit/trail/body-digest.ts', import.meta.url).pathname)};
    const store = await openSqliteAuditStore({ path: ${JSON.stringify(path)} });
    const e = ${JSON.stringify(e)};
    e.time = new Date(e.time);
    await store.insert(e);
    const chunk = { n: 0, stream: 'response', tUs: 5, data: Buffer.from('{"type":"ADDED"}\\n') };
    const digest = digestChunks([chunk]);
    await store.segment(e.id, { chunks: [chunk], bodies: { response: { chunks: 1, recordedBytes: 17, totalBytes: 40, truncated: true, digest } } });
    process.kill(process.pid, 'SIGKILL');
  `;
  assert.throws(() => execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'pipe' }));
  const store = await openSqliteAuditStore({ path });
  const evs = await events(store);
  const opened = evs.filter((x) => x.type === 'trail.opened');
  assert.equal(opened.length, 2);
  assert.match(opened[1]!.event, /"unclean":true/);
  const abandoned = evs.find((x) => x.type === 'request.abandoned');
  assert.ok(abandoned, 'the open watch is abandoned');
  assert.equal(abandoned.ref, e.id);
  assert.match(abandoned.event, /"response":\{"chunks":1,"digest":"[0-9a-f]{64}","recordedBytes":17,"totalBytes":40,"truncated":true\}/, 'what the last segment committed to');
  const rec = await store.get(e.id);
  assert.equal(rec?.outcome?.error?.code, 'REQUEST_ABANDONED');
  await store.close();
  const again = await openSqliteAuditStore({ path });
  assert.equal((await events(again)).filter((x) => x.type === 'request.abandoned').length, 1, 'abandoned once, not at every start');
  await again.close();
});

test('retention deletes whole checkpoint ranges: the trail then starts at a signed checkpoint and still verifies', async () => {
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const signer = testSigner();
  const store = await openSqliteAuditStore({ path: dbPath(), trail: { signer, checkpointEvents: 6, checkpointSeconds: 0, now: () => clock } });
  const old: string[] = [];
  for (let i = 0; i < 10; i++) {
    const e = auditEntry({ minute: i });
    old.push(e.id);
    await store.insert(e, done, { chunks: [{ n: 0, stream: 'response', tUs: 1, data: Buffer.from(`old-${i}`) }] });
  }
  clock += 40 * 86_400_000;
  const recent = auditEntry();
  await store.insert(recent, done, { chunks: [{ n: 0, stream: 'response', tUs: 1, data: Buffer.from('recent') }] });
  const before = await events(store);

  // Bodies only: older chunks go, every event stays.
  assert.equal(await store.prune(undefined, new Date(clock - 30 * 86_400_000)), true);
  assert.deepEqual(await store.chunks(old[0]!), []);
  assert.equal((await store.chunks(recent.id)).length, 1, 'recent bodies stay');
  const added = (await events(store)).slice(before.length).map((e) => e.type);
  assert.ok(added.includes('trail.pruned'));
  assert.deepEqual(
    added.filter((t) => t !== 'trail.pruned' && t !== 'trail.checkpoint'),
    [],
    'events stay: only trail.pruned (and a checkpoint due by count) were added',
  );

  // Events: everything before the newest checkpoint older than the cut.
  assert.equal(await store.prune(new Date(clock - 30 * 86_400_000), undefined), true);
  const kept = await events(store);
  assert.equal(kept[0]!.type, 'trail.checkpoint', 'the trail starts at a checkpoint');
  assert.ok(kept[0]!.seq > 1);
  assert.equal(await store.get(old[0]!), undefined, 'pruned records are gone from the listing too');
  assert.ok(await store.get(recent.id));
  const pruned = JSON.parse(kept.findLast((e) => e.type === 'trail.pruned')!.event) as { beforeSeq: number; events: number };
  assert.equal(pruned.beforeSeq, kept[0]!.seq);
  assert.ok(pruned.events > 0);
  const report = await verifyTrail(kept, { trustedKeys: parseTrustedKeys(publicKeyPem(signer)) });
  assert.equal(report.ok, true, report.failure?.message);
  assert.equal(await store.prune(new Date(clock - 30 * 86_400_000), undefined), false, 'nothing more to prune');
  await store.close();
});

test('WAL checkpoints run in the background thread: the database file itself catches up while the store stays open', async () => {
  const path = dbPath();
  const store = await openSqliteAuditStore({ path });
  const e = auditEntry();
  await store.insert(e, done);
  const copy = `${path}.copy`;
  let found = false;
  for (let i = 0; i < 100 && !found; i++) {
    await new Promise((r) => setTimeout(r, 50));
    copyFileSync(path, copy); // the main file only: what is still in the WAL is not in it
    const db = new Database(copy);
    try {
      found = db.prepare('select 1 from audit_events where id = ?').get(e.id) !== undefined;
    } catch {
      found = false; // not even the tables have reached the file yet
    }
    db.close();
  }
  assert.equal(found, true, 'the record reached the database file without the writer checkpointing');
  await store.close();
});
