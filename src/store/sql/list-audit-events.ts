/**
 * Lists audit records newest first (time, then seq) with keyset pagination. Filter values are
 * bound parameters; `text` becomes LIKE patterns with `%`, `_` and `\` escaped
 * (../audit-text-filter.ts).
 */
import { SqliteAdapter, sql, type Expression, type Kysely, type SqlBool } from 'kysely';
import type { AuditListFilter, AuditPage } from '../audit-store.ts';
import { containsPattern, textNeedles } from '../audit-text-filter.ts';
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
  if (filter.group !== undefined) q = q.where(groupsContain(db, filter.group));
  if (filter.resource !== undefined) {
    const [resource, subresource] = filter.resource.split('/');
    q = q.where('resource', '=', resource!);
    if (subresource !== undefined) q = q.where('subresource', '=', subresource);
  }
  if (filter.text !== undefined) {
    const n = textNeedles(filter.text);
    const like = (column: 'path' | 'query', needle: string): Expression<SqlBool> => sql<SqlBool>`lower(${sql.ref(column)}) like ${containsPattern(needle)} escape '\\'`;
    const any = [...n.path.map((x) => like('path', x)), ...n.query.map((x) => like('query', x))];
    q = q.where((eb) => eb.or(any));
  }
  if (filter.principal !== undefined) {
    q = q.where('principal_issuer', '=', filter.principal.issuer).where('principal_subject', '=', filter.principal.subject);
  }
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

/**
 * `principal_groups` (a JSON array of strings) has `group` as one element, exactly: SQLite's
 * json_each, PostgreSQL's jsonb containment. Never a substring match of the JSON text.
 */
function groupsContain(db: Kysely<StoreDatabase>, group: string): Expression<SqlBool> {
  if (db.getExecutor().adapter instanceof SqliteAdapter) {
    return sql<SqlBool>`exists (select 1 from json_each(${sql.ref('principal_groups')}) where json_each.value = ${group})`;
  }
  return sql<SqlBool>`(${sql.ref('principal_groups')})::jsonb @> jsonb_build_array(${group}::text)`;
}
