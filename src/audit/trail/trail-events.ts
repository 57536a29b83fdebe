/**
 * The events of the tamper-evident trail (ADR 0002) and their canonical text — the exact bytes
 * the chain hashes (chain-hash.ts) and the store keeps in `trail.event`.
 *
 * Every audit record becomes events that are only ever appended:
 * - a request record: `request.begin` (what was asked and decided, written before anything is
 *   forwarded), later `request.outcome` naming it by `id` (status, bytes, masking, and the
 *   digests of the recorded bodies), and for long streams `body.segment` events that commit the
 *   chunks recorded so far;
 * - a one-shot record (approval transitions, audit reads): `record`, complete in itself;
 * - the trail's own life: `trail.opened` / `trail.closed`, `request.abandoned` for requests a
 *   stopped gateway never completed, `trail.key` and the signed `trail.checkpoint`.
 *
 * Text is RFC 8785 canonical JSON (canonical-json.ts), so anyone can rebuild the hashed bytes
 * from a parsed event; times are integer milliseconds, every event has `type` and `v: 1`.
 * Event text is built when the write is queued (in the request's own turn); only the hash, which
 * needs the predecessor, is computed by the writer.
 */
import type { AuditBegin, AuditCompletion, RecordedStream } from '../types.ts';
import { canonicalJson } from './canonical-json.ts';
import type { CheckpointBody } from './checkpoint.ts';

export const TRAIL_EVENT_TYPES = [
  'request.begin',
  'request.outcome',
  'body.segment',
  'record',
  'request.abandoned',
  'trail.opened',
  'trail.closed',
  'trail.key',
  'trail.checkpoint',
  'trail.pruned',
] as const;
export type TrailEventType = (typeof TRAIL_EVENT_TYPES)[number];

/** Codes whose records are complete when written (no outcome follows). */
export function isOneShotCode(code: string): boolean {
  return code.startsWith('approval.') || code.startsWith('audit.');
}

/** What a body's recording commits to: its digest over the recorded chunks, sizes and whether the cap cut it. */
export interface BodyCommitment {
  /** Chunks recorded (stored) so far. */
  chunks: number;
  /** Bytes recorded (stored). */
  recordedBytes: number;
  /** Bytes sent, recorded or not. */
  totalBytes: number;
  /** True once the recording cap stopped storing chunks. */
  truncated: boolean;
  /** Running digest (body-digest.ts) over the recorded chunks, hex. */
  digest: string;
  /** Bytes were sent unmasked (policy lifted masking) and so not stored. */
  withheld?: boolean;
}

export type BodyCommitments = Partial<Record<RecordedStream, BodyCommitment>>;

/**
 * A record as event members: dates become integer milliseconds, absent fields are omitted.
 * Members are built in canonical (sorted) order, nested ones too, so canonicalJson finds them
 * sorted and skips its sort (about a quarter of its time, bench/trail.ts).
 */
function recordEvent(type: string, e: AuditBegin): Record<string, unknown> {
  const p = e.principal;
  const a = e.attributes;
  const d = e.decision;
  return {
    approvalId: e.approvalId,
    attributes: a && {
      apiGroup: a.apiGroup,
      apiVersion: a.apiVersion,
      connection: a.connection,
      isResourceRequest: a.isResourceRequest,
      name: a.name,
      namespace: a.namespace,
      objectError: a.objectError,
      path: a.path,
      resource: a.resource,
      subresource: a.subresource,
      verb: a.verb,
    },
    code: e.code,
    connection: e.connection,
    decision: d && { effect: d.effect, message: d.message, policyDigest: d.policyDigest, rules: d.rules },
    detail: e.detail,
    error: e.error && { code: e.error.code, message: e.error.message },
    id: e.id,
    method: e.method,
    path: e.path,
    principal: p ? { groups: [...p.groups], issuer: p.issuer, kind: p.kind, subject: p.subject, username: p.username } : null,
    query: e.query,
    sourceIp: e.sourceIp,
    time: e.time.getTime(),
    type,
    userAgent: e.userAgent,
    v: 1,
  };
}

/** The type of a record's first event: a one-shot `record`, or `request.begin` (an outcome follows). */
export function beginEventType(e: AuditBegin): 'record' | 'request.begin' {
  return isOneShotCode(e.code) ? 'record' : 'request.begin';
}

export function beginEvent(e: AuditBegin): string {
  return canonicalJson(recordEvent(beginEventType(e), e));
}

export function outcomeEvent(id: string, c: AuditCompletion, bodies?: BodyCommitments): string {
  const { completedAt, ...rest } = c;
  const hasBodies = bodies !== undefined && Object.keys(bodies).length > 0;
  return canonicalJson({ type: 'request.outcome', v: 1, id, outcome: { ...rest, completedAt: completedAt.getTime() }, bodies: hasBodies ? bodies : undefined });
}

export function segmentEvent(id: string, bodies: BodyCommitments): string {
  return canonicalJson({ type: 'body.segment', v: 1, id, bodies });
}

export function abandonedEvent(id: string, reason: string, bodies?: BodyCommitments): string {
  return canonicalJson({ type: 'request.abandoned', v: 1, id, reason, bodies });
}

export interface TrailHead {
  seq: number;
  hash: string;
}

export function openedEvent(time: number, previous: TrailHead | null, unclean: boolean, abandoned: number): string {
  return canonicalJson({ type: 'trail.opened', v: 1, time, previous: previous ?? undefined, unclean: unclean || undefined, abandoned: abandoned || undefined });
}

export function closedEvent(time: number): string {
  return canonicalJson({ type: 'trail.closed', v: 1, time });
}

export function keyEvent(time: number, keyId: string, publicKeySpki: string): string {
  return canonicalJson({ type: 'trail.key', v: 1, time, keyId, publicKey: publicKeySpki });
}

export function checkpointEvent(checkpoint: CheckpointBody, signature: string): string {
  return canonicalJson({ type: 'trail.checkpoint', v: 1, checkpoint, signature });
}

export function prunedEvent(time: number, beforeSeq: number, events: number, chunks: number): string {
  return canonicalJson({ type: 'trail.pruned', v: 1, time, beforeSeq, events, chunks });
}
