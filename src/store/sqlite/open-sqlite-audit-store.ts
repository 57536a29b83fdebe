/**
 * Opens the embedded SQLite store (better-sqlite3 + Kysely's SqliteDialect) and migrates it to
 * the latest schema.
 *
 * Durability: WAL journal; `store.sqlite.synchronous` says when a record is safe. An audit record
 * must be durable before the gateway forwards the request or releases its answer.
 * - `full` (default): the WAL is fdatasync'ed after each commit — asynchronously, off the event
 *   loop (sqlite-group-commit.ts) — and `insert` resolves only after that: a record survives
 *   power loss. Outcomes resolve at commit and are synced right after, without waiting.
 * - `normal`: no fsync at commit (only at checkpoints); a committed record survives a crash of the
 *   process, but the last transactions may be lost on power loss or an OS crash.
 * WAL keeps readers (`sluice audit list`) from blocking the writer; WAL checkpoints run in a
 * thread of their own (wal-checkpointer.ts), never inside the writer's commits.
 *
 * Writes (`insert`, `complete`) go through group commit (sqlite-group-commit.ts): every write
 * queued in one turn of the event loop is committed in one transaction — one fsync — and each
 * promise resolves only after that COMMIT. Reads go through Kysely (src/store/sql/*).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { SluiceError } from '../../core/errors.ts';
import type { AuditStore } from '../audit-store.ts';
import { storeUnavailable } from '../store-unavailable.ts';
import type { StoreDatabase } from '../sql/schema.ts';
import { createSqlAuditReader } from '../sql/create-sql-audit-reader.ts';
import { SQLITE_MIGRATIONS, sqliteMigrationProvider } from './migrations.ts';
import { createSqliteGroupCommit, type SqliteGroupCommit } from './sqlite-group-commit.ts';
import { startWalCheckpointer, type WalCheckpointer } from './wal-checkpointer.ts';
import type { RecordedStream } from '../../audit/types.ts';
import type { TrailSigner } from '../../audit/trail/signing-key.ts';
import { BodyDigest } from '../../audit/trail/body-digest.ts';
import { abandonedEvent, closedEvent, keyEvent, openedEvent, type BodyCommitments } from '../../audit/trail/trail-events.ts';

export interface SqliteStoreOptions {
  /** Database file (created with its folder unless `readonly`), or `:memory:`. */
  path: string;
  /** Open an existing store for reading only (the CLI); never creates, migrates or writes. */
  readonly?: boolean;
  /** How long a write waits for a lock held by another connection before it fails (default 5000 ms). */
  busyTimeoutMs?: number;
  /** `full` (default): commits survive power loss; `normal`: they survive a crash of the process only (see above). */
  synchronous?: SqliteSynchronous;
  /** A WAL checkpoint in the background thread failed (it is retried; the WAL grows meanwhile). */
  onCheckpointError?: (message: string) => void;
  /** The trail's checkpoints (ADR 0002): the gateway's signing key and how often; without a signer, no checkpoints. */
  trail?: TrailWriterOptions;
}

export interface TrailWriterOptions {
  signer?: TrailSigner;
  /** A checkpoint after this many events (default 10,000). */
  checkpointEvents?: number;
  /** …and at this interval while there is something new (default 60 s). */
  checkpointSeconds?: number;
  /** Retention of events (with their records and chunks), in days; pruned at start and hourly. Absent: kept forever. */
  retentionDays?: number;
  /** Retention of recorded chunks only, in days (events stay). Absent: as long as the events. */
  bodyRetentionDays?: number;
  /** Clock (ms), for tests. */
  now?: () => number;
  /** Each committed checkpoint event's text (the gateway logs them: copies outside the store). */
  onCheckpoint?: (eventText: string) => void;
}

/** The SQLite store: the AuditStore port plus retention, which only the embedded store runs itself. */
export interface SqliteAuditStore extends AuditStore {
  /**
   * Delete what is older than the cuts (whole checkpoint ranges, see sqlite-group-commit.ts) and
   * append `trail.pruned`; true when anything was deleted.
   */
  prune(eventsBefore: Date | undefined, bodiesBefore: Date | undefined): Promise<boolean>;
}

const DAY_MS = 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;

export type SqliteSynchronous = 'full' | 'normal';

const SYNCHRONOUS_MODES: readonly string[] = ['full', 'normal'] satisfies SqliteSynchronous[];

const UNIQUE_CODES = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);

export async function openSqliteAuditStore(opts: SqliteStoreOptions): Promise<SqliteAuditStore> {
  const readonly = opts.readonly ?? false;
  const inMemory = opts.path === ':memory:' || opts.path === '';
  let sqlite: Database.Database;
  try {
    if (!readonly && !inMemory) mkdirSync(dirname(opts.path), { recursive: true });
    sqlite = new Database(opts.path, { readonly, fileMustExist: readonly, timeout: opts.busyTimeoutMs ?? 5000 });
  } catch (e) {
    throw unavailable(opts.path, e);
  }
  const db = new Kysely<StoreDatabase>({ dialect: new SqliteDialect({ database: sqlite }) });
  try {
    if (!readonly) {
      const mode = sqlite.pragma('journal_mode = WAL', { simple: true }) as string;
      if (!inMemory && mode !== 'wal') throw new Error(`cannot switch to WAL journal mode (got ${mode})`);
      const synchronous = opts.synchronous ?? 'full';
      if (!SYNCHRONOUS_MODES.includes(synchronous)) throw new Error(`unknown synchronous mode ${JSON.stringify(synchronous)} (full or normal)`);
      // Commits never fsync on the event loop: with `full`, the group-commit writer syncs the WAL
      // file asynchronously after each commit (same guarantee as SQLite's FULL, see there).
      sqlite.pragma('synchronous = NORMAL');
      const { error } = await new Migrator({ db, provider: sqliteMigrationProvider }).migrateToLatest();
      if (error) throw error;
    } else {
      await checkSchemaIsCurrent(sqlite);
    }
  } catch (e) {
    await db.destroy().catch(() => undefined);
    throw unavailable(opts.path, e);
  }
  let closed = false;
  const isUniqueViolation = (e: unknown): boolean => UNIQUE_CODES.has(String((e as { code?: unknown })?.code));
  const store = createSqlAuditReader(db);
  const trail = sqliteTrailReader(sqlite, () => closed);
  if (readonly) {
    // A read-only store (the CLI) never writes: every write is refused.
    const refuse = (op: string) => (): Promise<never> => Promise.reject(storeUnavailable(op, new Error('the store is open for reading only')));
    return { ...store, trail, insert: refuse('insert'), complete: refuse('complete'), segment: refuse('segment'), prune: refuse('prune') };
  }
  const syncWal = !inMemory && (opts.synchronous ?? 'full') === 'full' ? `${sqlite.name}-wal` : undefined;
  let writer: SqliteGroupCommit;
  let checkpointer: WalCheckpointer | undefined;
  try {
    writer = createSqliteGroupCommit(sqlite, { isUniqueViolation, ...(syncWal ? { syncWal } : {}), ...opts.trail });
    // Checkpoints run in a thread of their own, not inside the writer's commits (wal-checkpointer.ts).
    if (!inMemory) {
      sqlite.pragma('wal_autocheckpoint = 0');
      checkpointer = startWalCheckpointer(sqlite.name, { busyTimeoutMs: opts.busyTimeoutMs ?? 5000, ...(opts.onCheckpointError ? { onError: opts.onCheckpointError } : {}) });
    }
    await openTrail(sqlite, writer, opts.trail ?? {});
  } catch (e) {
    await store.close().catch(() => undefined);
    throw unavailable(opts.path, e);
  }
  const now = opts.trail?.now ?? Date.now;
  const prune = (eventsBefore: Date | undefined, bodiesBefore: Date | undefined): Promise<boolean> => writer.prune(eventsBefore?.getTime(), bodiesBefore?.getTime());
  const { retentionDays, bodyRetentionDays } = opts.trail ?? {};
  const retention = (): void => {
    if (retentionDays === undefined && bodyRetentionDays === undefined) return;
    const cut = (days: number | undefined): Date | undefined => (days === undefined ? undefined : new Date(now() - days * DAY_MS));
    prune(cut(retentionDays), cut(bodyRetentionDays ?? retentionDays)).catch(() => undefined); // a failed prune is retried in an hour
  };
  retention();
  const retentionTimer = setInterval(retention, PRUNE_EVERY_MS).unref();
  return {
    ...store,
    trail,
    prune,
    insert: (entry, completion, recording) => writer.insert(entry, completion, recording),
    complete: (id, c, recording) => writer.complete(id, c, recording),
    segment: (id, recording) => writer.segment(id, recording),
    async close() {
      clearInterval(retentionTimer);
      // A clean stop: `trail.closed`, then a checkpoint over it, then the queued writes commit.
      const closing = Promise.all([writer.append({ type: 'trail.closed', ref: null, time: now(), text: closedEvent(now()) }), writer.checkpoint()]);
      await writer.close();
      await closing.catch(() => undefined);
      await checkpointer?.close();
      closed = true;
      await store.close();
    },
  };
}

/**
 * Start of a writer's run (ADR 0002, Decision 7): `trail.opened` with the previous head (and
 * `unclean` when the last run did not append `trail.closed`), `request.abandoned` for every
 * request of an earlier run that has a begin but no outcome (the gateway stopped while it was in
 * flight) — committing the chunks that request left —, `trail.key` the first time a signing key
 * is used, and a checkpoint. Resolves once all of it is durable.
 */
async function openTrail(sqlite: Database.Database, writer: SqliteGroupCommit, t: TrailWriterOptions): Promise<void> {
  const now = t.now ?? Date.now;
  const head = sqlite.prepare('select seq, hash from trail order by seq desc limit 1').get() as { seq: number; hash: Buffer } | undefined;
  // A clean stop appends trail.closed and then a checkpoint over it.
  const lastWord = sqlite.prepare("select type from trail where type != 'trail.checkpoint' order by seq desc limit 1").get() as { type: string } | undefined;
  const open = sqlite
    .prepare(
      "select id, begin_seq from audit_events where completed_at is null and begin_seq is not null and code not like 'approval.%' and code not like 'audit.%' order by begin_seq",
    )
    .all() as { id: string; begin_seq: number }[];
  const chunkStmt = sqlite.prepare('select stream, t_us, data from trail_chunk where begin_seq = ? order by n');
  const writes: Promise<unknown>[] = [];
  const time = now();
  writes.push(
    writer.append({
      type: 'trail.opened',
      ref: null,
      time,
      text: openedEvent(time, head ? { seq: head.seq, hash: head.hash.toString('hex') } : null, lastWord !== undefined && lastWord.type !== 'trail.closed', open.length),
    }),
  );
  const lastSegment = sqlite.prepare("select event from trail where rec = ? and type = 'body.segment' order by seq desc limit 1");
  for (const r of open) {
    // Chunks are stored only with the writes that commit to them: the last segment (if any) commits to every stored chunk, with
    // the sizes, truncation and withholding only the recorder knew; without one, the chunks stored with the begin are all there is.
    const segment = lastSegment.get(r.begin_seq) as { event: string } | undefined;
    const bodies = segment
      ? (JSON.parse(segment.event) as { bodies: BodyCommitments }).bodies
      : commitmentsOf(chunkStmt.all(r.begin_seq) as { stream: RecordedStream; t_us: number; data: Buffer }[]);
    const completion = { status: 0, bytesIn: 0, bytesOut: 0, durationMs: 0, error: { code: 'REQUEST_ABANDONED', message: 'the gateway stopped before the request completed' }, completedAt: new Date(time) };
    writes.push(writer.completeWith(r.id, completion, { type: 'request.abandoned', ref: r.id, time, text: abandonedEvent(r.id, 'gateway stopped', bodies) }));
  }
  if (t.signer) {
    const announced = sqlite.prepare("select 1 from trail where type = 'trail.key' and ref = ?").get(t.signer.keyId);
    if (!announced) writes.push(writer.append({ type: 'trail.key', ref: t.signer.keyId, time, text: keyEvent(time, t.signer.keyId, t.signer.publicKeySpki) }));
    writes.push(writer.checkpoint());
  }
  await Promise.all(writes);
}

/** What the chunks an abandoned request left with its begin commit to, per stream (no segment was written). */
function commitmentsOf(chunks: readonly { stream: RecordedStream; t_us: number; data: Buffer }[]): BodyCommitments | undefined {
  if (chunks.length === 0) return undefined;
  const digests = new Map<RecordedStream, BodyDigest>();
  for (const c of chunks) {
    let d = digests.get(c.stream);
    if (!d) digests.set(c.stream, (d = new BodyDigest()));
    d.update(c.t_us, c.data);
  }
  const out: BodyCommitments = {};
  for (const [stream, d] of digests) out[stream] = { chunks: d.chunks, recordedBytes: d.bytes, totalBytes: d.bytes, truncated: false, digest: d.hex() };
  return out;
}

/**
 * The trail in seq order straight from better-sqlite3: pages of raw rows by keyset on seq,
 * prepared once — Kysely's row objects cost verify a third of its rate (read-trail.ts is the
 * dialect-neutral version). A page is read in one synchronous call, so no cursor stays open on
 * the connection the writer shares while the caller awaits.
 */
function sqliteTrailReader(sqlite: Database.Database, isClosed: () => boolean): AuditStore['trail'] {
  const PAGE = 5000;
  const page = sqlite.prepare('select seq, chain, type, ref, time, event, hash from trail where seq > ? and seq <= ? order by seq limit ?').raw(true);
  return async function* trail(range = {}) {
    let after = (range.fromSeq ?? 1) - 1;
    const last = range.toSeq ?? Number.MAX_SAFE_INTEGER;
    for (;;) {
      if (isClosed()) throw new SluiceError('STORE_UNAVAILABLE', 'store unavailable (trail): the store is closed', { operation: 'trail' });
      let rows: [number, string, string, string | null, number, string, Buffer][];
      try {
        rows = page.all(after, last, PAGE) as typeof rows;
      } catch (e) {
        throw storeUnavailable('trail', e);
      }
      for (const [seq, chain, type, ref, time, event, hash] of rows) yield { seq, chain, type, ref, time, event, hash: hash.toString('hex') };
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1]![0];
    }
  };
}

/** A read-only connection cannot migrate: refuse a store whose schema is missing or older than this code. */
async function checkSchemaIsCurrent(sqlite: Database.Database): Promise<void> {
  const hasTable = sqlite.prepare("select 1 from sqlite_master where type = 'table' and name = 'kysely_migration'").get();
  const applied = new Set(
    hasTable ? (sqlite.prepare('select name from kysely_migration').all() as { name: string }[]).map((r) => r.name) : [],
  );
  const missing = Object.keys(SQLITE_MIGRATIONS).filter((n) => !applied.has(n));
  if (missing.length) {
    throw new Error(`the store has no current audit schema (missing migrations ${missing.join(', ')}); start the gateway once to create or migrate it`);
  }
}

function unavailable(path: string, e: unknown): SluiceError {
  const err = storeUnavailable('open', e);
  return new SluiceError('STORE_UNAVAILABLE', err.message.replace('store unavailable (open)', `cannot open the store ${path}`), { ...err.detail, path });
}
