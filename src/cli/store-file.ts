/**
 * A store file opened read-only for the `sluice audit` commands that read it directly (`--db`,
 * or the configuration's `store.sqlite.path` with `-c`): opened for one piece of work and closed
 * after it. The store's modules (better-sqlite3, Kysely) load only here, on use, so the other
 * commands — `sluice demo token` runs as kubectl's exec plugin for every command — start without
 * them.
 */
import { once } from 'node:events';
import { loadConfig } from '../config/load-config.ts';
import type { AuditStore } from '../store/audit-store.ts';

/** `--db FILE`, else the store of the configuration (`-c FILE`, or the default one). */
export interface StoreFileFlags {
  db?: string;
  config?: string;
}

export async function withStoreFile<T>(flags: StoreFileFlags, fn: (store: AuditStore) => Promise<T>): Promise<T> {
  const path = flags.db ?? (await loadConfig(flags.config)).store.sqlite.path;
  const { openSqliteAuditStore } = await import('../store/sqlite/open-sqlite-audit-store.ts');
  const store = await openSqliteAuditStore({ path, readonly: true });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Write to stdout, waiting for 'drain' when a pipe is full. */
export function writeStdout(text: string): Promise<void> | void {
  if (!process.stdout.write(text)) return once(process.stdout, 'drain').then(() => undefined);
}
