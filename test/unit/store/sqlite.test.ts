import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { auditStoreConformance, auditEntry } from './audit-store.conformance.ts';
import { trailConformance } from './trail.conformance.ts';
import { openSqliteAuditStore } from '../../../src/store/sqlite/open-sqlite-audit-store.ts';
import { SQLITE_MIGRATIONS } from '../../../src/store/sqlite/migrations.ts';
import { SluiceError } from '../../../src/core/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

auditStoreConformance('sqlite (file)', () => openSqliteAuditStore({ path: join(dir, `c${++n}`, 'sluice.db') }));
auditStoreConformance('sqlite (:memory:)', () => openSqliteAuditStore({ path: ':memory:' }));
trailConformance('sqlite (file)', () => openSqliteAuditStore({ path: join(dir, `t${++n}`, 'sluice.db') }));

const unavailable = (e: unknown): boolean => {
  assert.ok(e instanceof SluiceError, String(e));
  assert.equal(e.code, 'STORE_UNAVAILABLE');
  return true;
};

test('the file is in WAL mode, migrated once, and reopens with its records', async () => {
  const path = join(dir, 'reopen', 'sluice.db');
  const s1 = await openSqliteAuditStore({ path });
  const e = auditEntry();
  await s1.insert(e);
  await s1.close();
  const s2 = await openSqliteAuditStore({ path });
  assert.equal((await s2.get(e.id))!.id, e.id);
  await s2.close();
  const raw = new Database(path, { readonly: true });
  assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  assert.deepEqual(raw.prepare('select name from kysely_migration order by name').all(), Object.keys(SQLITE_MIGRATIONS).map((name) => ({ name })));
  raw.close();
});

test('a read-only store reads but refuses writes with STORE_UNAVAILABLE', async () => {
  const path = join(dir, 'ro', 'sluice.db');
  const w = await openSqliteAuditStore({ path });
  const e = auditEntry();
  await w.insert(e);
  const r = await openSqliteAuditStore({ path, readonly: true });
  assert.equal((await r.get(e.id))!.id, e.id, 'a reader sees what the writer committed');
  await assert.rejects(r.insert(auditEntry()), unavailable);
  await r.close();
  await w.close();
});

test('opening fails with STORE_UNAVAILABLE: missing file read-only, not a database, a folder, an unmigrated file', async () => {
  await assert.rejects(openSqliteAuditStore({ path: join(dir, 'nope', 'sluice.db'), readonly: true }), unavailable);
  const junk = join(dir, 'junk.db');
  writeFileSync(junk, 'this is not a database, '.repeat(100));
  await assert.rejects(openSqliteAuditStore({ path: junk }), (e) => unavailable(e) && /junk\.db/.test((e as Error).message));
  await assert.rejects(openSqliteAuditStore({ path: dir }), unavailable);
  const empty = join(dir, 'empty.db');
  new Database(empty).close();
  await assert.rejects(openSqliteAuditStore({ path: empty, readonly: true }), (e) => unavailable(e) && /migrat/.test((e as Error).message));
  writeFileSync(join(dir, 'file-not-dir'), '');
  await assert.rejects(openSqliteAuditStore({ path: join(dir, 'file-not-dir', 'sluice.db') }), unavailable);
});

test('a write blocked by another process holding the lock fails with STORE_UNAVAILABLE after the busy timeout', async () => {
  const path = join(dir, 'locked', 'sluice.db');
  const s = await openSqliteAuditStore({ path, busyTimeoutMs: 50 });
  const other = new Database(path);
  other.exec('begin exclusive');
  try {
    await assert.rejects(s.insert(auditEntry()), (e) => unavailable(e) && /locked|busy/i.test((e as Error).message));
  } finally {
    other.exec('rollback');
    other.close();
  }
  const e = auditEntry();
  await s.insert(e);
  assert.ok(await s.get(e.id), 'writes work again once the lock is released');
  await s.close();
});

test('a deleted store cannot be reopened for reading (no silent empty store)', async () => {
  const path = join(dir, 'gone', 'sluice.db');
  const s = await openSqliteAuditStore({ path });
  await s.close();
  rmSync(join(dir, 'gone'), { recursive: true });
  assert.equal(existsSync(path), false);
  await assert.rejects(openSqliteAuditStore({ path, readonly: true }), unavailable);
});
