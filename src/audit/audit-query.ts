/**
 * The audit query language of `sluice audit list` and `GET /sluice/v1/audit/events`: named
 * string parameters, turned into the store's AuditListFilter. One parser for both, so the CLI
 * reading a copied file (`--db`) and the control API accept and refuse exactly the same queries.
 *
 *   since, until   a duration back from now (15m, 1h, 7d), `today`, or an ISO 8601 time
 *   user           principal username, exact
 *   group          a group of the principal, exact
 *   connection     connection, exact (`sluice` for audit reads themselves)
 *   verb           verb, exact
 *   namespace      namespace, exact
 *   resource       `pods` (with its subresources) or `pods/exec`
 *   decision       allow | deny | review
 *   approval       the full id of an approval: its held requests and its transitions
 *   code           an audit event code (docs/audit-events.md)
 *   text           case-insensitive substring of the path, query or exec command
 *   limit          1 … 1000 (default 50)
 *   before         the cursor of the previous page
 *
 * Every problem is SluiceError AUDIT_QUERY_INVALID naming the parameter.
 */
import { z } from 'zod';
import { SluiceError } from '../core/errors.ts';
import { AUDIT_LIST_MAX_LIMIT, type AuditListFilter } from '../store/audit-store.ts';
import { checkFilter } from '../store/list-cursor.ts';
import { isAuditEventCode } from './event-codes.ts';
import { parseTimeBound } from './parse-time-bound.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const AuditQuerySchema = z.strictObject({
  since: z.string().optional(),
  until: z.string().optional(),
  user: z.string().optional(),
  group: z.string().optional(),
  connection: z.string().optional(),
  verb: z.string().optional(),
  namespace: z.string().optional(),
  resource: z.string().optional(),
  decision: z.enum(['allow', 'deny', 'review'], { error: 'expected allow, deny or review' }).optional(),
  approval: z.string().regex(UUID, 'expected the full approval id (sluice approvals show prints it)').optional(),
  code: z
    .string()
    .refine(isAuditEventCode, 'expected an audit event code (docs/audit-events.md), e.g. kubernetes.request or audit.read')
    .optional(),
  text: z.string().optional(),
  limit: z
    .string()
    .regex(/^\d{1,9}$/, `expected an integer from 1 to ${AUDIT_LIST_MAX_LIMIT}`)
    .transform(Number)
    .pipe(z.number().int().min(1, `expected an integer from 1 to ${AUDIT_LIST_MAX_LIMIT}`).max(AUDIT_LIST_MAX_LIMIT, `expected an integer from 1 to ${AUDIT_LIST_MAX_LIMIT}`))
    .optional(),
  before: z.string().optional(),
});

/** The parameters as given (strings, checked by auditFilterFromQuery); unknown names are refused. */
export type AuditQuery = Partial<Record<keyof z.input<typeof AuditQuerySchema>, string>>;
export const AUDIT_QUERY_PARAMETERS = Object.keys(AuditQuerySchema.shape) as (keyof AuditQuery)[];

/**
 * The store filter of a query; `now` resolves relative times. Validates everything the store
 * would refuse too (lengths, control characters, the cursor), so a bad query is refused before
 * it is run.
 */
export function auditFilterFromQuery(query: AuditQuery, now: Date): AuditListFilter {
  const r = AuditQuerySchema.safeParse(query);
  if (!r.success) {
    const problems = r.error.issues.map((i) => {
      if (i.code === 'unrecognized_keys') return `unknown parameter ${i.keys.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')} (known: ${AUDIT_QUERY_PARAMETERS.join(', ')})`;
      return i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message;
    });
    throw new SluiceError('AUDIT_QUERY_INVALID', `invalid audit query: ${problems.join('; ')}`);
  }
  const q = r.data;
  const f: AuditListFilter = {};
  for (const k of ['user', 'group', 'connection', 'verb', 'namespace', 'resource', 'text', 'before'] as const) {
    if (q[k] !== undefined) f[k] = q[k];
  }
  if (q.code !== undefined) f.code = q.code;
  if (q.decision !== undefined) f.decision = q.decision;
  if (q.approval !== undefined) f.approvalId = q.approval;
  if (q.limit !== undefined) f.limit = q.limit;
  if (q.since !== undefined) f.since = parseTimeBound(q.since, 'since', now);
  if (q.until !== undefined) f.until = parseTimeBound(q.until, 'until', now);
  checkFilter(f);
  return f;
}

/** The filter as the `audit.read` record keeps it (times as ISO strings). */
export function filterJson(f: AuditListFilter): Record<string, unknown> {
  return JSON.parse(JSON.stringify(f)) as Record<string, unknown>;
}
