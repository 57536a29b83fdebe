/**
 * An AuditStore over any Kysely dialect whose database has the `audit_events` table (migrated by
 * the dialect's adapter). Driver failures become SluiceError STORE_UNAVAILABLE.
 */
import type { Kysely } from 'kysely';
import { SluiceError } from '../../core/errors.ts';
import type { AuditStore } from '../audit-store.ts';
import { storeUnavailable } from '../store-unavailable.ts';
import type { StoreDatabase } from './schema.ts';
import { insertAuditEvent } from './insert-audit-event.ts';
import { completeAuditEvent } from './complete-audit-event.ts';
import { getAuditEvent } from './get-audit-event.ts';
import { listAuditEvents } from './list-audit-events.ts';

export interface SqlAuditStoreOptions {
  /** Called by close() after the Kysely instance is destroyed. */
  onClose?: () => Promise<void> | void;
  /** Recognises a unique-constraint violation of the dialect's driver. */
  isUniqueViolation: (e: unknown) => boolean;
}

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
  return {
    insert: (entry, completion) => guard('insert', () => insertAuditEvent(db, entry, completion)),
    complete: (id, c) => guard('complete', () => completeAuditEvent(db, id, c)),
    get: (id) => guard('get', () => getAuditEvent(db, id)),
    list: (filter) => guard('list', () => listAuditEvents(db, filter)),
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
      await opts.onClose?.();
    },
  };
}
