/** Maps audit records to rows of `audit_events` and back (see schema.ts for the conventions). */
import type { Insertable, Selectable } from 'kysely';
import type { AuditBegin, AuditCompletion, AuditMasking, AuditRecord } from '../../audit/types.ts';
import type { Effect } from '../../core/decision.ts';
import type { PrincipalKind } from '../../core/principal.ts';
import type { AuditEventCode } from '../../audit/event-codes.ts';
import type { AuditEventsTable } from './schema.ts';

type Row = Selectable<AuditEventsTable>;

/** The row of a record; with its outcome when `c` is given (all outcome columns null otherwise). */
export function toRow(e: AuditBegin, c?: AuditCompletion, beginSeq: number | null = null): Insertable<AuditEventsTable> {
  const a = e.attributes;
  return {
    id: e.id,
    time: e.time.getTime(),
    code: e.code,
    principal_issuer: e.principal?.issuer ?? null,
    principal_subject: e.principal?.subject ?? null,
    principal_username: e.principal?.username ?? null,
    principal_groups: e.principal ? JSON.stringify(e.principal.groups) : null,
    principal_kind: e.principal?.kind ?? null,
    connection: e.connection,
    method: e.method,
    path: e.path,
    query: e.query,
    user_agent: e.userAgent ?? null,
    source_ip: e.sourceIp,
    verb: a?.verb ?? null,
    api_group: a?.apiGroup ?? null,
    api_version: a?.apiVersion ?? null,
    resource: a?.resource ?? null,
    subresource: a?.subresource ?? null,
    namespace: a?.namespace ?? null,
    name: a?.name ?? null,
    is_resource_request: a ? (a.isResourceRequest ? 1 : 0) : null,
    attributes_path: a?.path ?? null,
    decision: e.decision?.effect ?? null,
    decision_rules: e.decision ? JSON.stringify(e.decision.rules) : null,
    decision_message: e.decision?.message ?? null,
    policy_digest: e.decision?.policyDigest ?? null,
    error_code: e.error?.code ?? null,
    error_message: e.error?.message ?? null,
    ...(c ? completionRow(c) : NO_COMPLETION),
    approval_id: e.approvalId ?? null,
    detail: e.detail ? JSON.stringify(e.detail) : null,
    begin_seq: beginSeq,
  };
}

const NO_COMPLETION = {
  status: null,
  bytes_in: null,
  bytes_out: null,
  duration_ms: null,
  completed_at: null,
  outcome_error_code: null,
  outcome_error_message: null,
  masking: null,
  outcome_detail: null,
} as const;

/** PostgreSQL returns BIGINT as a string; SQLite returns numbers. */
const num = (v: number | string): number => Number(v);

export function fromRow(r: Row): AuditRecord {
  const rec: AuditRecord = {
    seq: num(r.seq),
    id: r.id,
    time: new Date(num(r.time)),
    code: r.code as AuditEventCode,
    principal:
      r.principal_username === null
        ? null
        : {
            issuer: r.principal_issuer ?? '',
            subject: r.principal_subject ?? '',
            username: r.principal_username,
            groups: JSON.parse(r.principal_groups ?? '[]') as string[],
            ...(r.principal_kind ? { kind: r.principal_kind as PrincipalKind } : {}),
          },
    connection: r.connection,
    method: r.method,
    path: r.path,
    query: r.query,
    ...(r.user_agent !== null ? { userAgent: r.user_agent } : {}),
    sourceIp: r.source_ip,
  };
  if (r.is_resource_request !== null) {
    rec.attributes = {
      connection: r.connection,
      verb: r.verb ?? '',
      apiGroup: r.api_group ?? '',
      apiVersion: r.api_version ?? '',
      resource: r.resource ?? '',
      subresource: r.subresource ?? '',
      namespace: r.namespace ?? '',
      name: r.name ?? '',
      isResourceRequest: num(r.is_resource_request) === 1,
      path: r.attributes_path ?? r.path,
    };
  }
  if (r.decision !== null) {
    rec.decision = {
      effect: r.decision as Effect,
      rules: JSON.parse(r.decision_rules ?? '[]') as string[],
      message: r.decision_message ?? '',
      policyDigest: r.policy_digest ?? '',
    };
  }
  if (r.error_code !== null) rec.error = { code: r.error_code, message: r.error_message ?? '' };
  if (r.approval_id !== null) rec.approvalId = r.approval_id;
  if (r.detail !== null) rec.detail = JSON.parse(r.detail) as Record<string, unknown>;
  if (r.completed_at !== null) {
    rec.outcome = {
      status: num(r.status ?? 0),
      bytesIn: num(r.bytes_in ?? 0),
      bytesOut: num(r.bytes_out ?? 0),
      durationMs: num(r.duration_ms ?? 0),
      completedAt: new Date(num(r.completed_at)),
      ...(r.outcome_error_code !== null ? { error: { code: r.outcome_error_code, message: r.outcome_error_message ?? '' } } : {}),
      ...(r.masking !== null ? { masking: JSON.parse(r.masking) as AuditMasking } : {}),
      ...(r.outcome_detail !== null && r.outcome_detail !== undefined ? { detail: JSON.parse(r.outcome_detail) as Record<string, unknown> } : {}),
    };
  }
  return rec;
}

/** The columns a completion sets (the outcome of a request). */
export function completionRow(c: AuditCompletion): {
  status: number;
  bytes_in: number;
  bytes_out: number;
  duration_ms: number;
  completed_at: number;
  outcome_error_code: string | null;
  outcome_error_message: string | null;
  masking: string | null;
  outcome_detail: string | null;
} {
  return {
    status: c.status,
    bytes_in: c.bytesIn,
    bytes_out: c.bytesOut,
    duration_ms: c.durationMs,
    completed_at: c.completedAt.getTime(),
    outcome_error_code: c.error?.code ?? null,
    outcome_error_message: c.error?.message ?? null,
    masking: c.masking ? JSON.stringify(c.masking) : null,
    outcome_detail: c.detail ? JSON.stringify(c.detail) : null,
  };
}
