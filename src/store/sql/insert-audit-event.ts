/** Inserts one audit record, with its outcome when given (one statement, committed when the promise resolves). */
import type { Kysely } from 'kysely';
import type { AuditBegin, AuditCompletion } from '../../audit/types.ts';
import type { StoreDatabase } from './schema.ts';
import { toRow } from './audit-row.ts';

export async function insertAuditEvent(db: Kysely<StoreDatabase>, entry: AuditBegin, completion?: AuditCompletion): Promise<void> {
  await db.insertInto('audit_events').values(toRow(entry, completion)).execute();
}
