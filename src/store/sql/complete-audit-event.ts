/** Sets the outcome of a record that has none yet; false when there is no such record. */
import type { Kysely } from 'kysely';
import type { AuditCompletion } from '../../audit/types.ts';
import type { StoreDatabase } from './schema.ts';

export async function completeAuditEvent(db: Kysely<StoreDatabase>, id: string, c: AuditCompletion): Promise<boolean> {
  const res = await db
    .updateTable('audit_events')
    .set({
      status: c.status,
      bytes_in: c.bytesIn,
      bytes_out: c.bytesOut,
      duration_ms: c.durationMs,
      completed_at: c.completedAt.getTime(),
      outcome_error_code: c.error?.code ?? null,
      outcome_error_message: c.error?.message ?? null,
    })
    .where('id', '=', id)
    .where('completed_at', 'is', null)
    .executeTakeFirst();
  return res.numUpdatedRows > 0n;
}
