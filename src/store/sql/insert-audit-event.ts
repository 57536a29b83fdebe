/** Inserts one audit record (one statement, committed when the promise resolves). */
import type { Kysely } from 'kysely';
import type { AuditBegin } from '../../audit/types.ts';
import type { StoreDatabase } from './schema.ts';
import { toRow } from './audit-row.ts';

export async function insertAuditEvent(db: Kysely<StoreDatabase>, entry: AuditBegin): Promise<void> {
  await db.insertInto('audit_events').values(toRow(entry)).execute();
}
