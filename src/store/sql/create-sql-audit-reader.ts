/**
 * The read side of the SQL audit store over any Kysely dialect whose database the dialect's
 * adapter migrated: records (get, list), a record's recorded chunks and trail events, and where a
 * range's verification starts. Writes are not here: they go through the adapter's single trail
 * writer (SQLite: sqlite-group-commit.ts), which alone assigns seq and hash; reading the whole
 * trail in seq order is the adapter's too (SQLite reads it as raw pages, for verify's rate).
 * Driver failures become SluiceError STORE_UNAVAILABLE.
 */
import type { Kysely } from 'kysely';
import { SluiceError } from '../../core/errors.ts';
import type { AuditStore } from '../audit-store.ts';
import { storeUnavailable } from '../store-unavailable.ts';
import type { StoreDatabase } from './schema.ts';
import { getAuditEvent } from './get-audit-event.ts';
import { listAuditEvents } from './list-audit-events.ts';
import { checkpointAtOrBefore, readChunks, readTrailOf } from './read-trail.ts';

export type SqlAuditReader = Pick<AuditStore, 'get' | 'list' | 'chunks' | 'trailOf' | 'checkpointAtOrBefore' | 'close'>;

export function createSqlAuditReader(db: Kysely<StoreDatabase>): SqlAuditReader {
  let closed = false;
  const guard = async <T>(op: string, fn: () => Promise<T>): Promise<T> => {
    if (closed) throw new SluiceError('STORE_UNAVAILABLE', `store unavailable (${op}): the store is closed`, { operation: op });
    try {
      return await fn();
    } catch (e) {
      throw storeUnavailable(op, e);
    }
  };
  return {
    get: (id) => guard('get', () => getAuditEvent(db, id)),
    list: (filter) => guard('list', () => listAuditEvents(db, filter)),
    chunks: (id) => guard('chunks', () => readChunks(db, id)),
    trailOf: (id) => guard('trail', () => readTrailOf(db, id)),
    checkpointAtOrBefore: (seq) => guard('trail', () => checkpointAtOrBefore(db, seq)),
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
