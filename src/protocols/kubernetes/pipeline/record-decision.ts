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
  return entry;
}


/**
 * Reads (get, list, watch, and GETs of non-resource paths such as discovery) change nothing in
 * the cluster, so they may be forwarded while their record commits: what must not happen — a
 * response released without a durable record — is prevented in forward-http, which waits for
 * the commit before the first byte. Every other request (writes, deletes, exec, attach,
 * port-forward, proxy) is forwarded only after its record is durable.
 */
function isRead(ctx: KubeContext): boolean {
  return !ctx.upgrade && ['get', 'list', 'watch'].includes(ctx.attributes?.verb ?? '') && ['GET', 'HEAD'].includes(ctx.req.method ?? '');
}

function unavailable(e: unknown, what: string): Rejection {
  return new Rejection('AUDIT_UNAVAILABLE', 503, 'ServiceUnavailable', `sluice: the audit trail is unavailable, so ${what}`, {
    cause: (e as Error).message,
  });
}

export const recordDecision: Stage = {
  name: 'record-decision',
  async run(ctx) {
    const pending = ctx.deps.recorder.begin(auditEntry(ctx)).then((handle) => (ctx.audit = handle));
    if (isRead(ctx)) {
      ctx.auditReady = pending.catch((e: unknown) => {
        throw unavailable(e, 'the response was withheld');
      });
      ctx.auditReady.catch(() => undefined); // handled where it is awaited
      return;
    }
    try {
      await pending;
    } catch (e) {
      throw unavailable(e, 'the request was not forwarded');
    }
  },
};
