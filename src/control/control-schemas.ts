/**
 * What the control API accepts: one zod schema per request body and for the list query. Unknown
 * fields are refused (a typo must not silently drop a reason). Durations use the policy
 * language's syntax (`30m`, `1h30m`, `90s`).
 */
import { z } from 'zod';
import { SluiceError, type ErrorCode } from '../core/errors.ts';
import type { ApprovalKind, ApprovalState } from '../approval/types.ts';

/** Longest reason a person can give (it is shown in lists, logs and webhook messages). */
export const MAX_REASON_LENGTH = 2000;
/** Most approvals one list answers with. */
export const MAX_LIST_LIMIT = 1000;

/** Same syntax as policy durations (src/policy/schema.ts). */
import { DURATION_PATTERN as DURATION } from '../core/duration.ts';
export { DURATION };

const reason = z.string().trim().min(1, 'must not be empty').max(MAX_REASON_LENGTH);

export const ApproveBody = z.strictObject({ reason: reason.optional() });
export const DenyBody = z.strictObject({ reason });
export const ReasonBody = z.strictObject({ reason });
export const RevokeBody = z.strictObject({ reason: reason.optional() });
export const AccessRequestBody = z.strictObject({
  role: z.string().min(1).max(128),
  duration: z.string().regex(DURATION, 'a duration such as 30s, 15m, 1h or 1h30m'),
  reason,
});

const STATES = ['pending', 'approved', 'denied', 'expired', 'spent', 'revoked'] as const satisfies readonly ApprovalState[];
const KINDS = ['request', 'grant'] as const satisfies readonly ApprovalKind[];

export const ListQuery = z.strictObject({
  state: z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(z.enum(STATES)).min(1, 'name at least one state'))
    .optional(),
  kind: z.enum(KINDS).optional(),
  mine: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  limit: z
    .string()
    .regex(/^\d+$/, 'an integer')
    .transform(Number)
    .pipe(z.number().int().min(1).max(MAX_LIST_LIMIT))
    .optional(),
});

export { durationMs } from '../core/duration.ts';

/** Validate `value` against `schema`, or throw `code` naming every problem. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, code: ErrorCode, what: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
  throw new SluiceError(code, `invalid ${what}: ${problems.join('; ')}`);
}
