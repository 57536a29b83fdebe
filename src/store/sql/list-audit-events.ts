/** Lists audit records newest first (time, then seq) with keyset pagination. */
import type { Kysely } from 'kysely';
import type { AuditListFilter, AuditPage } from '../audit-store.ts';
import { checkFilter, encodeCursor } from '../list-cursor.ts';
import type { StoreDatabase } from './schema.ts';
import { fromRow } from './audit-row.ts';

export async function listAuditEvents(db: Kysely<StoreDatabase>, filter: AuditListFilter = {}): Promise<AuditPage> {
  const { limit, before } = checkFilter(filter);
  let q = db.selectFrom('audit_events').selectAll();
  if (filter.user !== undefined) q = q.where('principal_username', '=', filter.user);
  if (filter.verb !== undefined) q = q.where('verb', '=', filter.verb);
  if (filter.namespace !== undefined) q = q.where('namespace', '=', filter.namespace);
  if (filter.decision !== undefined) q = q.where('decision', '=', filter.decision);
  if (filter.code !== undefined) q = q.where('code', '=', filter.code);
  if (filter.connection !== undefined) q = q.where('connection', '=', filter.connection);
  if (filter.approvalId !== undefined) q = q.where('approval_id', '=', filter.approvalId);
  // checkFilter allows only hex digits and dashes in a prefix, so it holds no LIKE wildcard.
  if (filter.idPrefix !== undefined) q = q.where('id', 'like', `${filter.idPrefix}%`);
  if (filter.since !== undefined) q = q.where('time', '>=', filter.since.getTime());
  if (filter.until !== undefined) q = q.where('time', '<', filter.until.getTime());
  if (before) {
    const { timeMs, seq } = before;
    q = q.where((eb) => eb.or([eb('time', '<', timeMs), eb.and([eb('time', '=', timeMs), eb('seq', '<', seq)])]));
  }
  const rows = await q.orderBy('time', 'desc').orderBy('seq', 'desc').limit(limit + 1).execute();
  const records = rows.slice(0, limit).map(fromRow);
  const last = records.at(-1);
  return rows.length > limit && last ? { records, next: encodeCursor({ timeMs: last.time.getTime(), seq: last.seq }) } : { records };
}
