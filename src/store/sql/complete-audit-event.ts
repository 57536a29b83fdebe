/** Sets the outcome of a record that has none yet; false when there is no such record. */
import type { Kysely } from 'kysely';
import type { AuditCompletion } from '../../audit/types.ts';
import { completionRow } from './audit-row.ts';
import type { StoreDatabase } from './schema.ts';

export async function completeAuditEvent(db: Kysely<StoreDatabase>, id: string, c: AuditCompletion): Promise<boolean> {
  const res = await db
    .updateTable('audit_events')
    .set(completionRow(c))
    .where('id', '=', id)
    .where('completed_at', 'is', null)
    .executeTakeFirst();
  return res.numUpdatedRows > 0n;
}
