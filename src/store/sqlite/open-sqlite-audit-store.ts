/**
 * Opens the embedded SQLite store (better-sqlite3 + Kysely's SqliteDialect) and migrates it to
 * the latest schema.
 *
 * Durability: WAL journal with `synchronous=FULL`. An audit record must be durable before the
 * gateway forwards the request ("durable before the response is released"); with WAL,
 * `synchronous=NORMAL` survives a crash of the process but may lose the last transactions on
 * power loss or an OS crash, which would break that promise. FULL costs one fsync of the WAL
 * per commit; WAL keeps readers (`sluice audit list`) from blocking the writer.
 *
 * better-sqlite3 is synchronous: a write blocks the event loop for its fsync. That is the price
 * of "committed when the promise resolves" in one process; group commit or a worker thread can
 * come later behind the same port if benchmarks ask for it.
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

export interface SqliteStoreOptions {
  /** Database file (created with its folder unless `readonly`), or `:memory:`. */
  path: string;
  /** Open an existing store for reading only (the CLI); never creates, migrates or writes. */
  readonly?: boolean;
  /** How long a write waits for a lock held by another connection before it fails (default 5000 ms). */
  busyTimeoutMs?: number;
}

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
      sqlite.pragma('synchronous = FULL');
      const { error } = await new Migrator({ db, provider: sqliteMigrationProvider }).migrateToLatest();
      if (error) throw error;
    } else {
      await checkSchemaIsCurrent(sqlite);
    }
  } catch (e) {
    await db.destroy().catch(() => undefined);
    throw unavailable(opts.path, e);
  }
  return createSqlAuditStore(db, {
    isUniqueViolation: (e) => UNIQUE_CODES.has(String((e as { code?: unknown })?.code)),
  });
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
