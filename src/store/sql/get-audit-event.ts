/** Reads one audit record by its full id. */
import type { Kysely } from 'kysely';
import type { AuditRecord } from '../../audit/types.ts';
import type { StoreDatabase } from './schema.ts';
import { fromRow } from './audit-row.ts';

export async function getAuditEvent(db: Kysely<StoreDatabase>, id: string): Promise<AuditRecord | undefined> {
  const row = await db.selectFrom('audit_events').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? fromRow(row) : undefined;
}
