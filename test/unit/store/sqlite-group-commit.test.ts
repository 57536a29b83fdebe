/**
 * Group commit of the SQLite store's writes (src/store/sqlite/sqlite-group-commit.ts): batching
 * into one transaction, failure isolation inside a batch, ordering, close, and durability as a
 * second connection sees it.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdtempSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { auditEntry } from './audit-store.conformance.ts';
import { openSqliteAuditStore } from '../../../src/store/sqlite/open-sqlite-audit-store.ts';
import { createSqliteGroupCommit } from '../../../src/store/sqlite/sqlite-group-commit.ts';
import { SluiceError } from '../../../src/core/errors.ts';
import type { AuditCompletion } from '../../../src/audit/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-group-commit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const newPath = (): string => join(dir, `db${++n}`, 'sluice.db');

const completion: AuditCompletion = { status: 200, bytesIn: 0, bytesOut: 10, durationMs: 3, completedAt: new Date(Date.UTC(2026, 0, 10, 12, 0, 1)) };
const unavailable = (e: unknown): boolean => {
  assert.ok(e instanceof SluiceError, String(e));
  assert.equal(e.code, 'STORE_UNAVAILABLE');
  return true;
};

/** A migrated database file, and a connection to it whose `begin immediate` / `commit` statements are counted. */
async function countedConnection(): Promise<{ sqlite: Database.Database; path: string; counts: { begin: number; commit: number } }> {
  const path = newPath();
  await (await openSqliteAuditStore({ path })).close();
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  const counts = { begin: 0, commit: 0 };
  const prepare = sqlite.prepare.bind(sqlite);
  sqlite.prepare = ((source: string) => {
    const stmt = prepare(source);
    const key = /^begin/i.test(source) ? 'begin' : /^commit/i.test(source) ? 'commit' : undefined;
    if (key) {
      const run = stmt.run.bind(stmt);
      stmt.run = ((...args: unknown[]) => {
        counts[key]++;
        return run(...(args as []));
      }) as typeof stmt.run;
    }
    return stmt;
  }) as typeof sqlite.prepare;
  return { sqlite, path, counts };
}

const isUniqueViolation = (e: unknown): boolean => /^SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)$/.test(String((e as { code?: unknown }).code));

test('writes called in one tick are committed in one transaction; each promise resolves after it', async () => {
  const { sqlite, counts } = await countedConnection();
  const w = createSqliteGroupCommit(sqlite, { isUniqueViolation });
  const es = Array.from({ length: 50 }, () => auditEntry());
  const done = es.map((e) => w.insert(e));
  assert.deepEqual(counts, { begin: 0, commit: 0 }, 'nothing runs before the flush');
  await Promise.all(done);
  assert.deepEqual(counts, { begin: 1, commit: 1 });
  assert.equal((sqlite.prepare('select count(*) as c from audit_events').get() as { c: number }).c, 50);
  // Completions of all of them, again from one tick: one more transaction.
  assert.deepEqual(await Promise.all(es.map((e) => w.complete(e.id, completion))), es.map(() => true));
  assert.deepEqual(counts, { begin: 2, commit: 2 });
  // Sequential writes commit one by one (no waiting for company at concurrency 1).
  await w.insert(auditEntry());
  await w.insert(auditEntry());
  assert.deepEqual(counts, { begin: 4, commit: 4 });
  await w.close();
  sqlite.close();
});

test('writes arriving from several callbacks of one event-loop turn share a transaction', async () => {
  const { sqlite, counts } = await countedConnection();
  const w = createSqliteGroupCommit(sqlite, { isUniqueViolation });
  // Ten separate callbacks (macrotasks) of one check phase, like ten sockets readable in one poll phase: the flush
  // they schedule runs after all of them.
  const done = await new Promise<Promise<void>[]>((resolve) => {
    const ps: Promise<void>[] = [];
    for (let i = 0; i < 10; i++) setImmediate(() => void ps.push(w.insert(auditEntry())));
    setImmediate(() => resolve(ps));
  });
  await Promise.all(done);
  assert.deepEqual(counts, { begin: 1, commit: 1 });
  await w.close();
  sqlite.close();
});

test('a duplicate id in a batch rejects only that insert; the others are committed', async () => {
  const path = newPath();
  const store = await openSqliteAuditStore({ path });
  const first = auditEntry();
  await store.insert(first);
  const a = auditEntry();
  const b = auditEntry();
  const results = await Promise.allSettled([
    store.insert(a),
    store.insert({ ...first, path: '/other' }), // exists already
    store.insert(b),
    store.insert({ ...a, path: '/again' }), // duplicate inside the batch
  ]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected']);
  for (const r of results.filter((x) => x.status === 'rejected')) {
    unavailable((r as PromiseRejectedResult).reason);
    assert.equal(((r as PromiseRejectedResult).reason as SluiceError).detail?.duplicate, true);
  }
  assert.equal((await store.get(first.id))!.path, first.path);
  assert.equal((await store.get(a.id))!.path, a.path);
  assert.ok(await store.get(b.id));
  await store.close();
});

test('a failing write that is not a duplicate rejects alone too', async () => {
  const store = await openSqliteAuditStore({ path: ':memory:' });
  const good = auditEntry();
  const bad = auditEntry({ decision: { effect: 'maybe' as 'allow', rules: [], message: '', policyDigest: '' } }); // CHECK constraint
  const [g, x] = await Promise.allSettled([store.insert(good), store.insert(bad)]);
  assert.equal(g.status, 'fulfilled');
  assert.equal(x.status, 'rejected');
  unavailable((x as PromiseRejectedResult).reason);
  assert.ok(await store.get(good.id));
  assert.equal(await store.get(bad.id), undefined);
  await store.close();
});

test('insert and complete of the same record in one batch: the completion sees the row', async () => {
  const store = await openSqliteAuditStore({ path: ':memory:' });
  const e = auditEntry();
  const [, completed, again] = await Promise.all([store.insert(e), store.complete(e.id, completion), store.complete(e.id, { ...completion, status: 500 })]);
  assert.equal(completed, true);
  assert.equal(again, false, 'the second completion in the same batch is refused');
  assert.deepEqual((await store.get(e.id))!.outcome, completion);
  await store.close();
});

test('close commits the queued writes; a write after close rejects with STORE_UNAVAILABLE', async () => {
  const path = newPath();
  const store = await openSqliteAuditStore({ path });
  const e = auditEntry();
  const pending = store.insert(e);
  const pendingComplete = store.complete(e.id, completion);
  await store.close();
  await pending;
  assert.equal(await pendingComplete, true);
  await assert.rejects(store.insert(auditEntry()), unavailable);
  await assert.rejects(store.complete(e.id, completion), unavailable);
  const raw = new Database(path, { readonly: true });
  assert.deepEqual(raw.prepare('select id, status from audit_events').all(), [{ id: e.id, status: 200 }]);
  raw.close();
});

for (const synchronous of ['full', 'normal'] as const) {
  test(`synchronous=${synchronous}: once insert resolved, a second connection sees the row`, async () => {
    const path = newPath();
    const store = await openSqliteAuditStore({ path, synchronous });
    const other = new Database(path, { readonly: true });
    try {
      const es = Array.from({ length: 5 }, () => auditEntry());
      await Promise.all(es.map((e) => store.insert(e)));
      const ids = (other.prepare('select id from audit_events order by seq').all() as { id: string }[]).map((r) => r.id);
      assert.deepEqual(ids, es.map((e) => e.id));
      await store.complete(es[0]!.id, completion);
      assert.deepEqual(other.prepare('select status from audit_events where id = ?').get(es[0]!.id), { status: 200 });
    } finally {
      other.close();
      await store.close();
    }
  });
}

test('synchronous full (the default) fdatasyncs the WAL after commits, off the event loop; normal never does', async () => {
  // The connection always commits with synchronous=NORMAL; `full` adds the writer's own WAL sync.
  const pragmas: string[] = [];
  const original = Database.prototype.pragma;
  Database.prototype.pragma = function (this: Database.Database, source: string, options?: Database.PragmaOptions) {
    if (/^synchronous/i.test(source)) pragmas.push(source);
    return original.call(this, source, options);
  } as typeof original;
  const synced: number[] = [];
  const originalSync = fs.fdatasync;
  fs.fdatasync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
    synced.push(fd);
    originalSync(fd, cb);
  }) as typeof fs.fdatasync;
  syncBuiltinESMExports();
  try {
    for (const synchronous of [undefined, 'full', 'normal'] as const) {
      const store = await openSqliteAuditStore({ path: newPath(), ...(synchronous ? { synchronous } : {}) });
      const before = synced.length;
      await store.insert(auditEntry());
      assert.equal(synced.length - before, synchronous === 'normal' ? 0 : 1, `synchronous ${synchronous ?? '(default)'}`);
      await store.close();
    }
  } finally {
    Database.prototype.pragma = original;
    fs.fdatasync = originalSync;
    syncBuiltinESMExports();
  }
  assert.deepEqual(pragmas, ['synchronous = NORMAL', 'synchronous = NORMAL', 'synchronous = NORMAL']);
  await assert.rejects(openSqliteAuditStore({ path: newPath(), synchronous: 'off' as 'full' }), unavailable);
});

test('when BEGIN fails (lock held elsewhere), every write of the batch rejects and nothing is half-written', async () => {
  const path = newPath();
  const store = await openSqliteAuditStore({ path, busyTimeoutMs: 20 });
  const other = new Database(path);
  other.exec('begin exclusive');
  const es = [auditEntry(), auditEntry()];
  const results = await Promise.allSettled(es.map((e) => store.insert(e)));
  other.exec('rollback');
  other.close();
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  for (const r of results) unavailable((r as PromiseRejectedResult).reason);
  for (const e of es) assert.equal(await store.get(e.id), undefined);
  await store.insert(es[0]!);
  assert.ok(await store.get(es[0]!.id));
  await store.close();
});

test('when COMMIT fails, every write of the batch rejects and none is kept', async () => {
  const { sqlite, path } = await countedConnection();
  const w = createSqliteGroupCommit(sqlite, { isUniqueViolation });
  const es = [auditEntry(), auditEntry()];
  // A deferred foreign key violated by a temp trigger makes the COMMIT itself fail (SQLITE_CONSTRAINT_FOREIGNKEY).
  sqlite.exec('create temp table fail_commit (x integer references fail_commit_parent(id) deferrable initially deferred)');
  sqlite.exec('create temp table fail_commit_parent (id integer primary key)');
  sqlite.pragma('foreign_keys = ON');
  sqlite.exec(
    "create temp trigger fail_on_insert after insert on main.audit_events when new.path = '/fail-commit' begin insert into fail_commit values (42); end",
  );
  const results = await Promise.allSettled([w.insert(es[0]!), w.insert({ ...es[1]!, path: '/fail-commit' })]);
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  for (const r of results) unavailable((r as PromiseRejectedResult).reason);
  assert.match(((results[0] as PromiseRejectedResult).reason as Error).message, /FOREIGN KEY/i);
  assert.equal(sqlite.inTransaction, false, 'the failed transaction is rolled back');
  const raw = new Database(path, { readonly: true });
  assert.deepEqual(raw.prepare('select count(*) as c from audit_events').get(), { c: 0 });
  raw.close();
  // The writer works on after it.
  sqlite.exec('drop trigger fail_on_insert');
  await w.insert(es[0]!);
  await w.close();
  sqlite.close();
});

/** An fdatasync the test completes by hand. */
function manualSync(): { fdatasync: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void; calls: number; finish(err?: Error): void } {
  const pending: ((err: NodeJS.ErrnoException | null) => void)[] = [];
  const s = {
    calls: 0,
    fdatasync: (_fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void => {
      s.calls++;
      pending.push(cb);
    },
    finish: (err?: Error): void => pending.shift()!(err ?? null),
  };
  return s;
}

const settledYet = async (p: Promise<unknown>): Promise<boolean> => {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  return done;
};

test('with syncWal, an insert resolves only after a WAL sync that started after its commit; a completion at commit', async () => {
  const path = newPath();
  await (await openSqliteAuditStore({ path })).close();
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  const sync = manualSync();
  const w = createSqliteGroupCommit(sqlite, { isUniqueViolation, syncWal: `${path}-wal`, fdatasync: sync.fdatasync });

  const a = auditEntry();
  const inserted = w.insert(a);
  assert.equal(await settledYet(inserted), false, 'committed but not synced: not resolved');
  assert.equal(sync.calls, 1, 'the sync starts right after the commit');

  // Written while the first sync runs: needs a sync of its own, which starts when the first ends.
  const b = auditEntry();
  const second = w.insert(b);
  const completed = w.complete(a.id, completion);
  assert.equal(await completed, true, 'a completion resolves at its commit, without waiting for the disk');
  assert.equal(await settledYet(second), false);
  assert.equal(sync.calls, 1, 'one sync at a time');

  sync.finish();
  await inserted;
  assert.equal(await settledYet(second), false, 'the first sync started before the second commit: it does not cover it');
  assert.equal(sync.calls, 2);
  sync.finish();
  await second;
  await w.close();
  sqlite.close();
});

test('a failed WAL sync rejects the inserts waiting for it and every later write (fail closed until restart)', async () => {
  const path = newPath();
  await (await openSqliteAuditStore({ path })).close();
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  const sync = manualSync();
  const w = createSqliteGroupCommit(sqlite, { isUniqueViolation, syncWal: `${path}-wal`, fdatasync: sync.fdatasync });
  const inserted = w.insert(auditEntry());
  await settledYet(inserted);
  sync.finish(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
  await assert.rejects(inserted, unavailable);
  await assert.rejects(w.insert(auditEntry()), (e) => unavailable(e) && /earlier failure broke the audit trail writer \(EIO/.test((e as Error).message));
  await assert.rejects(w.complete(auditEntry().id, completion), unavailable);
  await w.close();
  sqlite.close();
});
