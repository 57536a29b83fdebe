/**
 * Stage 6 — record the decision durably before anything is forwarded. If the audit trail cannot
 * take the record, the request is refused with 503 and nothing reaches the cluster (fail closed).
 */
import type { AuditBegin } from '../../../audit/types.ts';
import type { KubeContext, Stage } from './context.ts';
import { Rejection } from './rejection.ts';

/** The audit entry of a request at this point of the pipeline (also used for rejections). */
export function auditEntry(ctx: KubeContext, error?: { code: string; message: string }): AuditBegin {
  const p = ctx.principal;
  const entry: AuditBegin = {
    id: ctx.id,
    time: ctx.time,
    code: error?.code.startsWith('AUTHN_') ? 'authn.failed' : error && !ctx.decision ? 'kubernetes.request.rejected' : 'kubernetes.request',
    principal: p ? { issuer: p.issuer, subject: p.subject, username: p.username, groups: [...p.groups], kind: p.kind } : null,
    connection: ctx.upstream?.name ?? '',
    method: ctx.req.method ?? '',
    path: ctx.path,
    query: stripTokens(ctx.query),
    sourceIp: ctx.sourceIp,
  };
  const ua = ctx.req.headers['user-agent'];
  if (ua) entry.userAgent = ua.slice(0, 256);
  if (ctx.attributes) {
    const { object: _object, ...attributes } = ctx.attributes;
    entry.attributes = attributes;
  }
  if (ctx.decision) {
    entry.decision = {
      effect: ctx.decision.effect,
      rules: ctx.decision.rules.map((r) => r.id),
      message: ctx.decision.message,
      policyDigest: ctx.deps.policies().digest,
    };
  }
  if (error) entry.error = error;
  return entry;
}

/** The query string (without `?`) with the values of credential-like parameters removed. */
function stripTokens(query: string): string {
  if (!query) return '';
  if (!/token|secret|password/i.test(query)) return query.slice(1);
  const q = new URLSearchParams(query.slice(1));
  for (const k of [...q.keys()]) if (/token|secret|password/i.test(k)) q.set(k, '[redacted]');
  return q.toString();
}

export const recordDecision: Stage = {
  name: 'record-decision',
  async run(ctx) {
    try {
      ctx.audit = await ctx.deps.recorder.begin(auditEntry(ctx));
    } catch (e) {
      throw new Rejection('AUDIT_UNAVAILABLE', 503, 'ServiceUnavailable', 'sluice: the audit trail is unavailable, so the request was not forwarded', {
        cause: (e as Error).message,
      });
    }
  },
};
