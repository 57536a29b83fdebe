/**
 * An AuditStore over any Kysely dialect whose database has the `audit_events` table (migrated by
 * the dialect's adapter). Driver failures become SluiceError STORE_UNAVAILABLE.
 */
import type { Kysely } from 'kysely';
import { SluiceError } from '../../core/errors.ts';
import type { AuditStore } from '../audit-store.ts';
import { storeUnavailable } from '../store-unavailable.ts';
import type { StoreDatabase } from './schema.ts';
import { getAuditEvent } from './get-audit-event.ts';
import { listAuditEvents } from './list-audit-events.ts';
import { checkpointAtOrBefore, readChunks, readTrail, readTrailOf } from './read-trail.ts';

export interface SqlAuditStoreOptions {
  /** Called by close() after the Kysely instance is destroyed. */
  onClose?: () => Promise<void> | void;
  /** Recognises a unique-constraint violation of the dialect's driver. */
  isUniqueViolation: (e: unknown) => boolean;
}

const noWriter = (): Promise<never> => Promise.reject(new Error('this store is open for reading only'));

/**
 * The read side of the SQL store (list, get, the trail, chunks). Writes go through the adapter's
 * trail writer, which wraps this; on its own (a read-only CLI store) every write is refused.
 */
export function createSqlAuditStore(db: Kysely<StoreDatabase>, opts: SqlAuditStoreOptions): AuditStore {
  let closed = false;
  const guard = async <T>(op: string, fn: () => Promise<T>): Promise<T> => {
    if (closed) throw new SluiceError('STORE_UNAVAILABLE', `store unavailable (${op}): the store is closed`, { operation: op });
    try {
      return await fn();
    } catch (e) {
      if (op === 'insert' && opts.isUniqueViolation(e)) {
        throw new SluiceError('STORE_UNAVAILABLE', 'store refused the audit record: its id exists already', { operation: op, duplicate: true });
      }
      throw storeUnavailable(op, e);
    }
  };
  async function* guardIterable<T>(op: string, fn: () => AsyncIterable<T>): AsyncGenerator<T> {
    if (closed) throw new SluiceError('STORE_UNAVAILABLE', `store unavailable (${op}): the store is closed`, { operation: op });
    try {
      yield* fn();
    } catch (e) {
      throw storeUnavailable(op, e);
    }
  }
  return {
    // Writes go through the adapter's single trail writer (the SQLite group commit): a record the
    // chain does not hold is never written. These reads-only stores refuse them.
    insert: () => guard('insert', noWriter),
    complete: () => guard('complete', noWriter),
    get: (id) => guard('get', () => getAuditEvent(db, id)),
    list: (filter) => guard('list', () => listAuditEvents(db, filter)),
    // The trail is written by an adapter's own single writer (the SQLite group commit); a store
    // without one refuses to append rather than write records the chain does not hold.
    segment: () => guard('segment', noWriter),
    chunks: (id) => guard('chunks', () => readChunks(db, id)),
    trailOf: (id) => guard('trail', () => readTrailOf(db, id)),
    trail: (range) => guardIterable('trail', () => readTrail(db, range)),
    checkpointAtOrBefore: (seq) => guard('trail', () => checkpointAtOrBefore(db, seq)),
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
      await opts.onClose?.();
    },
  };
}
