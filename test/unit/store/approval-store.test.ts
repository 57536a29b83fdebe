// The ApprovalStore conformance suite against the in-memory fake and the SQLite adapter (a file
// in a temp dir, migrated by the audit store first, as the gateway does), plus what is specific
// to each: durability across connections, failWith, opening an unmigrated file.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { approvalStoreConformance, grantApproval, requestApproval } from './approval-store.conformance.ts';
import { createMemoryApprovalStore } from '../../../src/store/memory/memory-approval-store.ts';
import { openSqliteApprovalStore } from '../../../src/store/sqlite/open-sqlite-approval-store.ts';
import { openSqliteAuditStore } from '../../../src/store/sqlite/open-sqlite-audit-store.ts';
import { SluiceError } from '../../../src/core/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-approvals-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** The gateway's order: the audit store migrates the file, then the approval store opens it. */
async function openSqlite(path = join(dir, `c${++n}`, 'sluice.db')) {
  const audit = await openSqliteAuditStore({ path });
  const store = openSqliteApprovalStore({ path });
  return {
    store,
    path,
    async close() {
      await store.close();
      await audit.close();
    },
  };
}

approvalStoreConformance('memory', async () => {
  const store = createMemoryApprovalStore();
  return { store, close: () => store.close() };
});
approvalStoreConformance('sqlite (file)', () => openSqlite());

const unavailable = (e: unknown): boolean => {
  assert.ok(e instanceof SluiceError, String(e));
  assert.equal(e.code, 'STORE_UNAVAILABLE');
  return true;
};

test('sqlite: another connection sees a committed approval, and it survives closing and reopening', async () => {
  const first = await openSqlite();
  const a = requestApproval();
  const g = grantApproval({ state: 'approved', grant: { role: 'prod-write', durationMs: 60_000, activeUntil: new Date(Date.parse('2026-01-10T12:05:00Z')) } });
  await first.store.create(a);
  await first.store.create(g);
  await first.store.update(a.id, (cur) => ({ ...cur, state: 'approved' }));

  const second = openSqliteApprovalStore({ path: first.path });
  assert.equal((await second.get(a.id))!.state, 'approved', 'a second connection sees the committed update');
  await second.close();
  await first.close();

  const reopened = await openSqlite(first.path);
  assert.deepEqual(await reopened.store.get(a.id), { ...a, state: 'approved' });
  assert.deepEqual(await reopened.store.get(g.id), g);
  assert.deepEqual((await reopened.store.findOpen(a.hash)).map((x) => x.id), [a.id]);
  assert.deepEqual((await reopened.store.list({ kind: 'grant', states: ['approved'] })).map((x) => x.id), [g.id]);
  await reopened.close();
});

test('sqlite: an update made on one connection is seen by an update on another (no lost update)', async () => {
  const first = await openSqlite();
  const second = openSqliteApprovalStore({ path: first.path });
  const a = requestApproval({ state: 'approved' });
  await first.store.create(a);
  const spend = (s: typeof second, by: string) => s.update(a.id, (cur) => (cur.state === 'approved' ? { ...cur, state: 'spent', spentBy: by } : undefined));
  const [r1, r2] = await Promise.all([spend(first.store, 'req-1'), spend(second, 'req-2')]);
  assert.deepEqual([r1!.changed, r2!.changed].sort(), [false, true]);
  await second.close();
  await first.close();
});

test('sqlite: opening a missing or unmigrated file fails with STORE_UNAVAILABLE', () => {
  assert.throws(() => openSqliteApprovalStore({ path: join(dir, 'nope', 'sluice.db') }), unavailable);
  const empty = join(dir, 'empty.db');
  new Database(empty).close();
  assert.throws(() => openSqliteApprovalStore({ path: empty }), unavailable);
});

test('memory: failWith makes every operation reject with STORE_UNAVAILABLE until cleared', async () => {
  const store = createMemoryApprovalStore();
  const a = requestApproval();
  await store.create(a);
  store.failWith = 'disk on fire';
  const failing = (e: unknown): boolean => unavailable(e) && /disk on fire/.test((e as Error).message);
  await assert.rejects(store.create(requestApproval()), failing);
  await assert.rejects(store.get(a.id), failing);
  await assert.rejects(store.findOpen(a.hash), failing);
  await assert.rejects(store.list(), failing);
  let called = false;
  await assert.rejects(
    store.update(a.id, (cur) => {
      called = true;
      return { ...cur, state: 'denied' };
    }),
    failing,
  );
  assert.equal(called, false, 'a failing store does not run the change');
  store.failWith = undefined;
  assert.equal((await store.get(a.id))!.state, 'pending');
  await store.close();
});
