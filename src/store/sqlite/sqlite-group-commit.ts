/**
 * Group commit for the SQLite store's write path (`insert`, `complete`).
 *
 * Why: better-sqlite3 is synchronous. One commit per write (two per proxied request) made the
 * gateway spend half its time in SQLite under load. Here every write is queued and answered by a
 * promise; one flush runs ALL queued writes in ONE transaction (`BEGIN IMMEDIATE … COMMIT`) and
 * settles their promises only after the COMMIT returned.
 *
 * Durability without blocking the event loop (`sync`): SQLite's `synchronous=FULL` would fsync
 * the WAL inside COMMIT, on the event loop. Instead the connection commits with
 * `synchronous=NORMAL` (the frames reach the WAL file, in the OS cache) and this module then
 * calls `fdatasync` on the WAL file itself, asynchronously on libuv's thread pool — the same
 * guarantee as FULL (SQLite's FULL is exactly one WAL sync after each commit), while the loop
 * goes on serving requests. What waits for the sync:
 * - `insert` resolves only once an fdatasync that started after its COMMIT has completed: a
 *   request's record survives power loss before the request is forwarded or answered;
 * - `complete` resolves at COMMIT (the outcome survives a crash of the process), and the sync
 *   that makes it survive power loss is started at once but not awaited: the last byte of an
 *   answer does not wait for the disk a second time. On power loss the trail may miss the
 *   outcomes of the last milliseconds; never a record of a forwarded request.
 * One fdatasync runs at a time; the commits made meanwhile share the next one.
 * An fsync that fails leaves the WAL in an unknown state (Linux may already have dropped the dirty
 * pages): the writer is broken from then on and every write rejects (fail closed) until restart.
 *
 * When the flush runs: `setImmediate`, i.e. once per turn of the event loop, right after the poll
 * phase. Every request whose socket became readable in that turn (and every `complete` of a
 * response that ended in it) is in the batch; a microtask flush would commit after each socket
 * callback and batch almost nothing. At concurrency 1 the wait is only the rest of the current
 * turn (microseconds: the loop does not sleep while an immediate is pending). Under load the
 * batches grow by themselves: while one COMMIT's fsync blocks the loop, the next requests wait in
 * the kernel and all land in the next batch.
 *
 * Failure isolation: each operation is one SQL statement, and SQLite makes a failing statement
 * (e.g. a duplicate id: SQLITE_CONSTRAINT_UNIQUE) undo only its own changes while the transaction
 * stays open — a savepoint per operation would give the same guarantee at three more statements
 * each. Only that operation rejects (a duplicate id with the same SluiceError the Kysely path
 * used). A few errors (I/O, disk full, out of memory) make SQLite roll back the whole
 * transaction; then, as when BEGIN or COMMIT fails, every operation of the batch rejects with
 * STORE_UNAVAILABLE — none of them is committed. Operations run in the order they were called,
 * so a `complete` queued behind its own `insert` finds the row.
 *
 * SQL layers: reads (`get`, `list`) stay on Kysely (src/store/sql/*, shared with PostgreSQL).
 * This hot path uses two better-sqlite3 statements prepared once: Kysely would compile the query
 * and better-sqlite3 prepare it again on every call. The insert writes exactly the columns of
 * `toRow` (src/store/sql/audit-row.ts; the column list is derived from it, outcome columns
 * included), and the update the same columns as src/store/sql/complete-audit-event.ts, so Kysely
 * reads see identical rows. Parameters are bound by position (an array in column order), which
 * costs better-sqlite3 less than looking up some thirty names per row.
 */
import { fdatasync, openSync, closeSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { SluiceError } from '../../core/errors.ts';
import type { AuditBegin, AuditCompletion } from '../../audit/types.ts';
import { storeUnavailable } from '../store-unavailable.ts';
import { completionRow, toRow } from '../sql/audit-row.ts';

export interface SqliteGroupCommit {
  insert(entry: AuditBegin, completion?: AuditCompletion): Promise<void>;
  complete(id: string, completion: AuditCompletion): Promise<boolean>;
  /** Refuses new writes, commits the queued ones, then resolves (it does not close the database). */
  close(): Promise<void>;
}

export interface SqliteGroupCommitOptions {
  /** Recognises a unique-constraint violation (a duplicate id). */
  isUniqueViolation: (e: unknown) => boolean;
  /**
   * The WAL file to fdatasync after commits (see above), when the store must survive power loss;
   * the connection must then use `synchronous=NORMAL`. Absent: commits are not synced here.
   */
  syncWal?: string;
  /** The sync call (node:fs `fdatasync`; tests substitute one they control). */
  fdatasync?: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void;
}

type Op =
  | { kind: 'insert'; params: unknown[]; resolve: (v: void) => void; reject: (e: unknown) => void }
  | { kind: 'complete'; params: unknown[]; resolve: (v: boolean) => void; reject: (e: unknown) => void };

/** The columns `toRow` writes; it sets every one of them (null when absent), whatever the record. */
const INSERT_COLUMNS = Object.keys(
  toRow({ id: '', time: new Date(0), code: 'kubernetes.request', principal: null, connection: '', method: '', path: '', query: '', sourceIp: '' }),
);
const INSERT_SQL = `insert into audit_events (${INSERT_COLUMNS.map((c) => `"${c}"`).join(', ')}) values (${INSERT_COLUMNS.map(() => '?').join(', ')})`;
const COMPLETION_COLUMNS = Object.keys(completionRow({ status: 0, bytesIn: 0, bytesOut: 0, durationMs: 0, completedAt: new Date(0) }));
const COMPLETE_SQL = `update audit_events set ${COMPLETION_COLUMNS.map((c) => `"${c}" = ?`).join(', ')} where id = ? and completed_at is null`;

/** Values in the order of `columns` (a row object whose keys are exactly those columns). */
const inOrder = (row: Record<string, unknown>, columns: readonly string[]): unknown[] => columns.map((c) => row[c]);

const closedError = (op: string): SluiceError =>
  new SluiceError('STORE_UNAVAILABLE', `store unavailable (${op}): the store is closed`, { operation: op });

export function createSqliteGroupCommit(sqlite: Database.Database, opts: SqliteGroupCommitOptions): SqliteGroupCommit {
  const begin = sqlite.prepare('begin immediate');
  const commit = sqlite.prepare('commit');
  const rollback = sqlite.prepare('rollback');
  const insertStmt = sqlite.prepare(INSERT_SQL);
  const completeStmt = sqlite.prepare(COMPLETE_SQL);

  let queue: Op[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  let closed = false;
  /** Set once an fsync failed: nothing written since can be trusted to be durable. */
  let broken: unknown;

  // ---- WAL sync (opts.syncWal)
  let walFd: number | undefined;
  let syncing = false;
  /** Committed inserts waiting for a sync that starts after their commit. */
  let awaitingSync: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  let unsynced = false;
  const syncDone: (() => void)[] = [];

  const startSync = (): void => {
    if (syncing || !unsynced || !opts.syncWal) return;
    syncing = true;
    unsynced = false;
    const waiting = awaitingSync;
    awaitingSync = [];
    const finish = (err: unknown): void => {
      syncing = false;
      if (err) {
        broken ??= err;
        for (const w of waiting) w.reject(storeUnavailable('insert', err));
      } else for (const w of waiting) w.resolve();
      if (unsynced && !broken) startSync();
      else if (!syncing) for (const d of syncDone.splice(0)) d();
    };
    try {
      walFd ??= openSync(opts.syncWal, 'r');
    } catch (e) {
      finish(e);
      return;
    }
    (opts.fdatasync ?? fdatasync)(walFd, finish);
  };

  const enqueue = (op: Op): void => {
    queue.push(op);
    scheduled ??= setImmediate(flush);
  };

  function flush(): void {
    scheduled = undefined;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    const failAll = (e: unknown): void => {
      for (const op of batch) op.reject(storeUnavailable(op.kind, e));
    };
    if (broken) {
      failAll(new Error(`an earlier fsync of the audit trail failed (${(broken as Error).message}); restart the gateway`));
      return;
    }
    try {
      begin.run();
    } catch (e) {
      failAll(e);
      return;
    }
    // Each operation's result, settled only after COMMIT.
    const results: ({ ok: true; value: boolean } | { ok: false; error: unknown })[] = [];
    for (const op of batch) {
      try {
        if (op.kind === 'insert') {
          insertStmt.run(op.params);
          results.push({ ok: true, value: true });
        } else {
          results.push({ ok: true, value: completeStmt.run(op.params).changes > 0 });
        }
      } catch (e) {
        if (!sqlite.inTransaction) {
          // SQLite rolled the whole transaction back: nothing of this batch is committed.
          failAll(e);
          return;
        }
        results.push({ ok: false, error: e });
      }
    }
    try {
      commit.run();
    } catch (e) {
      try {
        if (sqlite.inTransaction) rollback.run();
      } catch {
        // The connection is unusable; the next BEGIN reports it.
      }
      failAll(e);
      return;
    }
    if (opts.syncWal) unsynced = true;
    batch.forEach((op, i) => {
      const r = results[i]!;
      if (!r.ok) op.reject(writeError(op.kind, r.error, opts));
      else if (op.kind === 'complete') op.resolve(r.value);
      else if (opts.syncWal) awaitingSync.push({ resolve: () => op.resolve(), reject: op.reject });
      else op.resolve();
    });
    startSync();
  }

  return {
    insert(entry, completion) {
      if (closed) return Promise.reject(closedError('insert'));
      return new Promise<void>((resolve, reject) => {
        // The row is taken now: the caller may change `entry` once insert() returned.
        enqueue({ kind: 'insert', params: inOrder(toRow(entry, completion), INSERT_COLUMNS), resolve, reject });
      }).catch(rethrowAs('insert'));
    },
    complete(id, c) {
      if (closed) return Promise.reject(closedError('complete'));
      return new Promise<boolean>((resolve, reject) => {
        enqueue({ kind: 'complete', params: [...inOrder(completionRow(c), COMPLETION_COLUMNS), id], resolve, reject });
      }).catch(rethrowAs('complete'));
    },
    async close() {
      closed = true;
      if (scheduled) clearImmediate(scheduled);
      flush();
      if (syncing) await new Promise<void>((r) => syncDone.push(r));
      if (walFd !== undefined) closeSync(walFd);
      walFd = undefined;
    },
  };
}

/** A record that cannot even be turned into a row (a bad Date, …) is refused like a failed write. */
const rethrowAs =
  (op: string) =>
  (e: unknown): never => {
    throw storeUnavailable(op, e);
  };

function writeError(op: 'insert' | 'complete', e: unknown, opts: SqliteGroupCommitOptions): SluiceError {
  if (op === 'insert' && opts.isUniqueViolation(e)) {
    return new SluiceError('STORE_UNAVAILABLE', 'store refused the audit record: its id exists already', { operation: op, duplicate: true });
  }
  return storeUnavailable(op, e);
}
