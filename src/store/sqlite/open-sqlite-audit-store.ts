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
 * WAL keeps readers (`sluice audit list`) from blocking the writer.
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
import { createSqlAuditStore } from '../sql/create-sql-audit-store.ts';
import { SQLITE_MIGRATIONS, sqliteMigrationProvider } from './migrations.ts';
import { createSqliteGroupCommit } from './sqlite-group-commit.ts';

export interface SqliteStoreOptions {
  /** Database file (created with its folder unless `readonly`), or `:memory:`. */
  path: string;
  /** Open an existing store for reading only (the CLI); never creates, migrates or writes. */
  readonly?: boolean;
  /** How long a write waits for a lock held by another connection before it fails (default 5000 ms). */
  busyTimeoutMs?: number;
  /** `full` (default): commits survive power loss; `normal`: they survive a crash of the process only (see above). */
  synchronous?: SqliteSynchronous;
}

export type SqliteSynchronous = 'full' | 'normal';

const SYNCHRONOUS_MODES: readonly string[] = ['full', 'normal'] satisfies SqliteSynchronous[];

const UNIQUE_CODES = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);

export async function openSqliteAuditStore(opts: SqliteStoreOptions): Promise<AuditStore> {
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
  const isUniqueViolation = (e: unknown): boolean => UNIQUE_CODES.has(String((e as { code?: unknown })?.code));
  const store = createSqlAuditStore(db, { isUniqueViolation });
  // A read-only store (the CLI) never writes: its insert/complete fail in SQLite like before.
  if (readonly) return store;
  const syncWal = !inMemory && (opts.synchronous ?? 'full') === 'full' ? `${sqlite.name}-wal` : undefined;
  const writer = createSqliteGroupCommit(sqlite, { isUniqueViolation, ...(syncWal ? { syncWal } : {}) });
  return {
    insert: (entry, completion) => writer.insert(entry, completion),
    complete: (id, c) => writer.complete(id, c),
    get: (id) => store.get(id),
    list: (filter) => store.list(filter),
    async close() {
      await writer.close(); // commits what is queued
      await store.close();
    },
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
