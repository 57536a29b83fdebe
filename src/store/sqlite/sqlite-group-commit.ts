/**
 * Group commit for the SQLite store's write path (`insert`, `complete`, `segment`), and the
 * single writer of the store's hash-chained trail (ADR 0002).
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
 * The trail: this writer is the one writer of the store's chain, so commit order is chain order.
 * Event text is built when a write is queued; in the flush, after `BEGIN IMMEDIATE`, the writer
 * reads the newest trail row and compares it with the head it holds (trail-chain.ts): a
 * difference means another process wrote or the file was restored, and every write fails from
 * then on (fail closed) until restart. Per operation the projection statement (`audit_events`)
 * runs first — a duplicate id fails there and only that operation is rejected — then the
 * operation's events get seq and hash and are inserted with its chunks. A failing trail or chunk
 * insert rolls the whole batch back and restores the head: no seq is ever skipped or reused.
 * After the batch, a signed checkpoint is appended when one is due (every `checkpointEvents`
 * events, and every `checkpointSeconds` while there is something new).
 *
 * SQL layers: reads (`get`, `list`) stay on Kysely (src/store/sql/*, shared with PostgreSQL).
 * This hot path uses two better-sqlite3 statements prepared once: Kysely would compile the query
 * and better-sqlite3 prepare it again on every call. The insert writes exactly the columns of
 * `toRow` (src/store/sql/audit-row.ts; the column list is derived from it, outcome columns
 * included), and the update the columns of `completionRow`, so Kysely reads (fromRow) see the rows they
 * expect. Parameters are bound by position (an array in column order), which
 * costs better-sqlite3 less than looking up some thirty names per row.
 */
import { randomUUID } from 'node:crypto';
import { fdatasync, openSync, closeSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { SluiceError } from '../../core/errors.ts';
import type { AuditBegin, AuditCompletion } from '../../audit/types.ts';
import { storeUnavailable } from '../store-unavailable.ts';
import { completionRow, toRow } from '../sql/audit-row.ts';
import type { NumberedChunk, RecordingWrite } from '../audit-store.ts';
import { TrailChain, stateFrom, type PendingEvent } from '../../audit/trail/trail-chain.ts';
import { beginEvent, beginEventType, outcomeEvent, prunedEvent, segmentEvent } from '../../audit/trail/trail-events.ts';
import type { TrailSigner } from '../../audit/trail/signing-key.ts';

export interface SqliteGroupCommit {
  insert(entry: AuditBegin, completion?: AuditCompletion, recording?: RecordingWrite): Promise<void>;
  complete(id: string, completion: AuditCompletion, recording?: RecordingWrite): Promise<boolean>;
  segment(id: string, recording: RecordingWrite): Promise<boolean>;
  /**
   * Complete a record with a given event instead of a `request.outcome` (`request.abandoned` at
   * start-up); resolves at commit, false when the record is not waiting for an outcome.
   */
  completeWith(id: string, completion: AuditCompletion, event: PendingEvent, recording?: RecordingWrite): Promise<boolean>;
  /** Append one of the trail's own events (`trail.opened`, `trail.key`, …); resolves once durable. */
  append(event: PendingEvent): Promise<void>;
  /** Append a signed checkpoint now if anything is new since the last one (no-op without a signer). */
  checkpoint(): Promise<void>;
  /**
   * Retention: delete the events (with their records and chunks) before the newest checkpoint
   * older than `eventsBefore`, and the chunks of records before the newest checkpoint older than
   * `bodiesBefore` (times in ms), then append `trail.pruned`. Whole checkpoint ranges only: the
   * trail then starts at a signed checkpoint, which anchors verification. Resolves true when
   * anything was deleted.
   */
  prune(eventsBefore: number | undefined, bodiesBefore: number | undefined): Promise<boolean>;
  /** The chain's id. */
  readonly chain: string;
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
  /** Signs checkpoints; without it the chain has no checkpoints (tests, tools). */
  signer?: TrailSigner;
  /** A checkpoint after this many events (default 10,000). */
  checkpointEvents?: number;
  /** …and at this interval while events are new (default 60 s; 0 = only by count). */
  checkpointSeconds?: number;
  /** Clock for checkpoint times (ms). */
  now?: () => number;
  /**
   * Called with each checkpoint event's text once it is committed: the gateway logs it, so that
   * checkpoints are kept outside the store (`sluice audit verify --against`).
   */
  onCheckpoint?: (eventText: string) => void;
}

type Settle<T> = { resolve: (v: T) => void; reject: (e: unknown) => void };
type Op =
  | ({ kind: 'insert'; params: unknown[]; events: PendingEvent[]; chunks: NumberedChunk[] } & Settle<void>)
  | ({ kind: 'complete'; params: unknown[]; event: PendingEvent; chunks: NumberedChunk[] } & Settle<boolean>)
  | ({ kind: 'segment'; id: string; event: PendingEvent; chunks: NumberedChunk[] } & Settle<boolean>)
  | ({ kind: 'append'; event: PendingEvent } & Settle<void>)
  | ({ kind: 'checkpoint' } & Settle<void>)
  | ({ kind: 'prune'; eventsBefore: number | undefined; bodiesBefore: number | undefined } & Settle<boolean>);

/** The columns `toRow` writes; it sets every one of them (null when absent), whatever the record. */
const INSERT_COLUMNS = Object.keys(
  toRow({ id: '', time: new Date(0), code: 'kubernetes.request', principal: null, connection: '', method: '', path: '', query: '', sourceIp: '' }),
);
const INSERT_SQL = `insert into audit_events (${INSERT_COLUMNS.map((c) => `"${c}"`).join(', ')}) values (${INSERT_COLUMNS.map(() => '?').join(', ')})`;
const BEGIN_SEQ_INDEX = INSERT_COLUMNS.indexOf('begin_seq');
const COMPLETION_COLUMNS = Object.keys(completionRow({ status: 0, bytesIn: 0, bytesOut: 0, durationMs: 0, completedAt: new Date(0) }));
const COMPLETE_SQL = `update audit_events set ${COMPLETION_COLUMNS.map((c) => `"${c}" = ?`).join(', ')} where id = ? and completed_at is null returning begin_seq`;

/** Values in the order of `columns` (a row object whose keys are exactly those columns). */
const inOrder = (row: Record<string, unknown>, columns: readonly string[]): unknown[] => columns.map((c) => row[c]);

const closedError = (op: string): SluiceError =>
  new SluiceError('STORE_UNAVAILABLE', `store unavailable (${op}): the store is closed`, { operation: op });

const NO_RECORDING: RecordingWrite = { chunks: [] };

export function createSqliteGroupCommit(sqlite: Database.Database, opts: SqliteGroupCommitOptions): SqliteGroupCommit {
  const begin = sqlite.prepare('begin immediate');
  const commit = sqlite.prepare('commit');
  const rollback = sqlite.prepare('rollback');
  const insertStmt = sqlite.prepare(INSERT_SQL);
  const completeStmt = sqlite.prepare(COMPLETE_SQL);
  const openSeqStmt = sqlite.prepare('select begin_seq from audit_events where id = ? and completed_at is null');
  const headStmt = sqlite.prepare('select seq, chain, hash from trail order by seq desc limit 1');
  const trailStmt = sqlite.prepare('insert into trail (seq, chain, type, ref, rec, time, event, hash) values (?, ?, ?, ?, ?, ?, ?, ?)');
  const chunkStmt = sqlite.prepare('insert into trail_chunk (begin_seq, stream, n, t_us, data) values (?, ?, ?, ?, ?)');
  const cutStmt = sqlite.prepare("select seq from trail where type = 'trail.checkpoint' and time <= ? order by seq desc limit 1");
  const firstStmt = sqlite.prepare('select seq from trail order by seq limit 1');
  const pruneEventsStmt = sqlite.prepare('delete from trail where seq < ?');
  const pruneRecordsStmt = sqlite.prepare('delete from audit_events where begin_seq < ? or (begin_seq is null and time < ?)');
  const pruneChunksStmt = sqlite.prepare('delete from trail_chunk where begin_seq < ?');

  const chain = openChain(sqlite, opts);

  let queue: Op[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  let closed = false;
  /** Set once an fsync failed or the trail changed under the writer: nothing written since can be trusted. */
  let broken: unknown;

  // ---- WAL sync (opts.syncWal)
  let walFd: number | undefined;
  let syncing = false;
  /** Committed writes waiting for a sync that starts after their commit. */
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

  const timer =
    opts.signer && (opts.checkpointSeconds ?? 60) > 0
      ? setInterval(() => {
          if (!closed && chain.sinceCheckpoint > 0) enqueue({ kind: 'checkpoint', resolve: () => undefined, reject: () => undefined });
        }, (opts.checkpointSeconds ?? 60) * 1000).unref()
      : undefined;

  /** Append one event; `rec` is the seq of the record's begin it belongs to ('self' for a begin, null for the trail's own). */
  const appendEvent = (e: PendingEvent, rec: number | 'self' | null): number => {
    const a = chain.append(e);
    trailStmt.run(a.seq, a.chain, a.type, a.ref, rec === 'self' ? a.seq : rec, a.time, a.text, a.hash);
    return a.seq;
  };
  const appendCheckpoint = (): string | undefined => {
    const cp = chain.checkpoint();
    if (!cp) return undefined;
    trailStmt.run(cp.seq, cp.chain, cp.type, cp.ref, null, cp.time, cp.text, cp.hash);
    return cp.text;
  };
  const storeChunks = (beginSeq: number, chunks: readonly NumberedChunk[]): void => {
    for (const c of chunks) chunkStmt.run(beginSeq, c.stream, c.n, c.tUs, c.data);
  };

  /** See SqliteGroupCommit.prune; runs inside the batch's transaction. */
  const prune = (eventsBefore: number | undefined, bodiesBefore: number | undefined): boolean => {
    const cutAt = (t: number | undefined): number | undefined => (t === undefined ? undefined : (cutStmt.get(t) as { seq: number } | undefined)?.seq);
    const first = (firstStmt.get() as { seq: number } | undefined)?.seq ?? 0;
    const eventsCut = cutAt(eventsBefore);
    let events = 0;
    let chunks = 0;
    let beforeSeq = first;
    if (eventsCut !== undefined && eventsCut > first) {
      events = pruneEventsStmt.run(eventsCut).changes;
      pruneRecordsStmt.run(eventsCut, eventsBefore);
      chunks += pruneChunksStmt.run(eventsCut).changes;
      beforeSeq = eventsCut;
    }
    const bodiesCut = cutAt(bodiesBefore);
    if (bodiesCut !== undefined) chunks += pruneChunksStmt.run(bodiesCut).changes;
    if (events === 0 && chunks === 0) return false;
    const time = (opts.now ?? Date.now)();
    appendEvent({ type: 'trail.pruned', ref: null, time, text: prunedEvent(time, beforeSeq, events, chunks) }, null);
    return true;
  };

  /** The trail must end where this writer left it; anything else means another writer or a restore. */
  const checkHead = (): void => {
    const row = headStmt.get() as { seq: number; chain: string; hash: Buffer } | undefined;
    const { seq, hash } = chain.head;
    const same = row ? row.seq === seq && row.chain === chain.chain && hash.equals(row.hash) : seq === 0;
    if (!same) {
      throw new TrailDiverged(
        `the audit trail changed under this gateway (expected head seq ${seq}, found ${row ? `seq ${row.seq} of chain ${row.chain}` : 'no events'}): another process wrote to the store or it was restored; restart the gateway`,
      );
    }
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
      failAll(new Error(`an earlier failure broke the audit trail writer (${(broken as Error).message}); restart the gateway`));
      return;
    }
    const mark = chain.mark();
    const abort = (e: unknown): void => {
      try {
        if (sqlite.inTransaction) rollback.run();
      } catch {
        // The connection is unusable; the next BEGIN reports it.
      }
      chain.restore(mark);
      failAll(e);
    };
    try {
      begin.run();
      checkHead();
    } catch (e) {
      if (e instanceof TrailDiverged) broken = e;
      abort(e);
      return;
    }
    /** Checkpoint events of this batch, published once committed. */
    const signed: string[] = [];
    // Each operation's result, settled only after COMMIT.
    const results: ({ ok: true; value: boolean } | { ok: false; error: unknown })[] = [];
    for (const op of batch) {
      // 1. The projection statement: a failure here (a duplicate id) rejects this operation only.
      let beginSeq: number | undefined;
      try {
        if (op.kind === 'insert') {
          op.params[BEGIN_SEQ_INDEX] = chain.nextSeq;
          insertStmt.run(op.params);
          beginSeq = chain.nextSeq;
        } else if (op.kind === 'complete') {
          const row = completeStmt.get(op.params) as { begin_seq: number | null } | undefined;
          if (!row) {
            results.push({ ok: true, value: false });
            continue;
          }
          beginSeq = row.begin_seq ?? undefined;
        } else if (op.kind === 'segment') {
          const row = openSeqStmt.get(op.id) as { begin_seq: number | null } | undefined;
          if (!row || row.begin_seq === null) {
            results.push({ ok: true, value: false });
            continue;
          }
          beginSeq = row.begin_seq;
        }
      } catch (e) {
        if (!sqlite.inTransaction) {
          // SQLite rolled the whole transaction back: nothing of this batch is committed.
          chain.restore(mark);
          failAll(e);
          return;
        }
        results.push({ ok: false, error: e });
        continue;
      }
      // 2. The trail: any failure from here on undoes the whole batch.
      try {
        switch (op.kind) {
          case 'insert':
            op.events.forEach((e, i) => appendEvent(e, i === 0 ? 'self' : beginSeq!));
            storeChunks(beginSeq!, op.chunks);
            break;
          case 'complete':
          case 'segment':
            appendEvent(op.event, beginSeq ?? null);
            if (beginSeq !== undefined) storeChunks(beginSeq, op.chunks);
            break;
          case 'append':
            appendEvent(op.event, null);
            break;
          case 'checkpoint': {
            const text = appendCheckpoint();
            if (text) signed.push(text);
            break;
          }
          case 'prune':
            results.push({ ok: true, value: prune(op.eventsBefore, op.bodiesBefore) });
            continue;
        }
        results.push({ ok: true, value: true });
      } catch (e) {
        abort(e);
        return;
      }
    }
    try {
      if (chain.checkpointDue()) signed.push(appendCheckpoint()!);
      commit.run();
    } catch (e) {
      abort(e);
      return;
    }
    if (opts.syncWal) unsynced = true;
    for (const text of signed) opts.onCheckpoint?.(text);
    batch.forEach((op, i) => {
      const r = results[i]!;
      if (!r.ok) op.reject(writeError(op.kind, r.error, opts));
      else if (op.kind === 'complete' || op.kind === 'segment' || op.kind === 'prune') op.resolve(r.value);
      else if (op.kind === 'checkpoint') op.resolve();
      else if (opts.syncWal) awaitingSync.push({ resolve: () => op.resolve(), reject: op.reject });
      else op.resolve();
    });
    startSync();
  }

  const queued = <T>(op: string, make: (s: Settle<T>) => Op): Promise<T> => {
    if (closed) return Promise.reject(closedError(op));
    return new Promise<T>((resolve, reject) => enqueue(make({ resolve, reject }))).catch(rethrowAs(op));
  };

  /** The outcome of a record: its columns and the event committing to it, built when queued (a bad time rejects, it does not throw). */
  const completeOp = (id: string, c: AuditCompletion, event: () => PendingEvent, recording: RecordingWrite): Promise<boolean> =>
    queued<boolean>('complete', (s) => ({ kind: 'complete', params: [...inOrder(completionRow(c), COMPLETION_COLUMNS), id], event: event(), chunks: recording.chunks, ...s }));

  return {
    chain: chain.chain,
    insert(entry, completion, recording = NO_RECORDING) {
      return queued<void>('insert', (s) => {
        // The row and the events are built now: the caller may change `entry` once insert() returned.
        const time = entry.time.getTime();
        const events: PendingEvent[] = [{ type: beginEventType(entry), ref: entry.id, time, text: beginEvent(entry) }];
        if (completion) events.push({ type: 'request.outcome', ref: entry.id, time: completion.completedAt.getTime(), text: outcomeEvent(entry.id, completion, recording.bodies) });
        return { kind: 'insert', params: inOrder(toRow(entry, completion), INSERT_COLUMNS), events, chunks: recording.chunks, ...s };
      });
    },
    complete(id, c, recording = NO_RECORDING) {
      return completeOp(id, c, () => ({ type: 'request.outcome', ref: id, time: c.completedAt.getTime(), text: outcomeEvent(id, c, recording.bodies) }), recording);
    },
    completeWith(id, c, event, recording = NO_RECORDING) {
      return completeOp(id, c, () => event, recording);
    },
    segment(id, recording) {
      return queued<boolean>('segment', (s) => ({
        kind: 'segment',
        id,
        event: { type: 'body.segment', ref: id, time: (opts.now ?? Date.now)(), text: segmentEvent(id, recording.bodies ?? {}) },
        chunks: recording.chunks,
        ...s,
      }));
    },
    append(event) {
      return queued<void>('append', (s) => ({ kind: 'append', event, ...s }));
    },
    checkpoint() {
      return queued<void>('checkpoint', (s) => ({ kind: 'checkpoint', ...s }));
    },
    prune(eventsBefore, bodiesBefore) {
      return queued<boolean>('prune', (s) => ({ kind: 'prune', eventsBefore, bodiesBefore, ...s }));
    },
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      if (scheduled) clearImmediate(scheduled);
      flush();
      if (syncing) await new Promise<void>((r) => syncDone.push(r));
      if (walFd !== undefined) closeSync(walFd);
      walFd = undefined;
    },
  };
}

class TrailDiverged extends Error {}

/** The store's chain: its id (created at first use) and head, read from the database. */
function openChain(sqlite: Database.Database, opts: SqliteGroupCommitOptions): TrailChain {
  let row = sqlite.prepare('select chain from trail_chains order by created_at limit 1').get() as { chain: string } | undefined;
  if (!row) {
    row = { chain: randomUUID() };
    sqlite.prepare('insert into trail_chains (chain, created_at) values (?, ?)').run(row.chain, Date.now());
  }
  const head = sqlite.prepare('select seq, hash from trail order by seq desc limit 1').get() as { seq: number; hash: Buffer } | undefined;
  const cp = sqlite.prepare("select seq, event as text from trail where type = 'trail.checkpoint' order by seq desc limit 1").get() as
    | { seq: number; text: string }
    | undefined;
  const policy = opts.signer ? { signer: opts.signer, events: opts.checkpointEvents ?? 10_000, ...(opts.now ? { now: opts.now } : {}) } : undefined;
  return new TrailChain(row.chain, stateFrom(head, cp), policy);
}

/** A record that cannot even be turned into a row (a bad Date, …) is refused like a failed write. */
const rethrowAs =
  (op: string) =>
  (e: unknown): never => {
    throw storeUnavailable(op, e);
  };

function writeError(op: Op['kind'], e: unknown, opts: SqliteGroupCommitOptions): SluiceError {
  if (op === 'insert' && opts.isUniqueViolation(e)) {
    return new SluiceError('STORE_UNAVAILABLE', 'store refused the audit record: its id exists already', { operation: op, duplicate: true });
  }
  return storeUnavailable(op, e);
}
