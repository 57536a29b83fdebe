/**
 * Stage 7 — record the decision. A request that can change anything is forwarded only once its
 * record is durable; if the audit trail cannot take the record, the request is refused with 503
 * and nothing reaches the cluster (fail closed). A read is forwarded while its record is being
 * written (the commit and the API server's answer overlap); forward-http waits for the record
 * before it releases the first byte of the answer.
 */
import { principalOf } from '../../../core/principal.ts';
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
    principal: p ? principalOf(p) : null,
    connection: ctx.upstream?.name ?? '',
    method: ctx.req.method ?? '',
    path: ctx.path,
    query: ctx.query.slice(1), // the recorder removes credential-bearing parameters
    sourceIp: ctx.sourceIp,
  };
  const ua = ctx.req.headers['user-agent'];
  if (ua) entry.userAgent = ua.slice(0, 256);
  if (ctx.attributes) {
    const { object: _object, objectError: _objectError, ...attributes } = ctx.attributes;
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
  if (ctx.hold) entry.approvalId = ctx.hold.approval.id;
  if (ctx.caller) entry.detail = { via: ctx.caller.via };
  return entry;
}


/**
 * Reads (get, list, watch, and GETs of non-resource paths such as discovery) change nothing in
 * the cluster, so they may be forwarded before their record is durable: what must not happen — a
 * response released without a durable record — is prevented in forward-http, which waits for the
 * record before the first byte. Every other request (writes, deletes, exec, attach,
 * port-forward, proxy) is forwarded only after its record is durable.
 */
function isRead(ctx: KubeContext): boolean {
  return !ctx.upgrade && ['get', 'list', 'watch'].includes(ctx.attributes?.verb ?? '') && ['GET', 'HEAD'].includes(ctx.req.method ?? '');
}

/** The 503 of a request whose record the audit trail did not take. */
export function auditUnavailable(e: unknown, what: string): Rejection {
  return new Rejection('AUDIT_UNAVAILABLE', 503, 'ServiceUnavailable', `sluice: the audit trail is unavailable, so ${what}`, {
    cause: (e as Error).message,
  });
}

export const recordDecision: Stage = {
  name: 'record-decision',
  async run(ctx) {
    ctx.audit = ctx.deps.recorder.begin(auditEntry(ctx));
    if (isRead(ctx) && !ctx.hold) {
      // Written while the request travels; awaited (and a failure answered) before the first byte.
      ctx.audit.commit().catch(() => undefined);
      return;
    }
    try {
      await ctx.audit.commit();
      // The record of the call that caused it was enqueued first: no extra wait in practice.
      if (ctx.caller?.recorded) await ctx.caller.recorded;
    } catch (e) {
      throw auditUnavailable(e, 'the request was not forwarded');
    }
  },
};
