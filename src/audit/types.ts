/**
 * Audit records: what the gateway writes for every request, before it forwards anything, and
 * completes when the response has been sent. The catalogue of event codes and the fields of a
 * record are documented in docs/audit-events.md.
 *
 * Records never carry bearer tokens, agent credentials or bodies (bodies and terminal streams
 * come with the recording feature); the recorder strips `access_token` from query strings and
 * redacts anything that looks like a JWT before a record reaches the store.
 */
import type { Principal } from '../core/principal.ts';
import type { KubernetesRequestAttributes } from '../core/request.ts';
import type { Effect } from '../core/decision.ts';
import type { AuditEventCode } from './event-codes.ts';

export { AUDIT_EVENT_CODES, isAuditEventCode, type AuditEventCode } from './event-codes.ts';

/** Attributes as the audit trail keeps them: everything the classifier derived but the body. */
export type AuditAttributes = Omit<KubernetesRequestAttributes, 'object'>;

/** A short error: a stable code (docs/errors.md) and a message without secrets. */
export interface AuditError {
  code: string;
  message: string;
}

/** The decision as recorded: effect, ids of the deciding rules, the client-facing message, and the digest of the policy set that decided. */
export interface AuditDecision {
  effect: Effect;
  rules: string[];
  message: string;
  policyDigest: string;
}

/** What the gateway knows when a request arrives; written (durably) before anything is forwarded. */
export interface AuditBegin {
  /** Request id (UUID v4) that the gateway generated; never client-supplied. */
  id: string;
  /** When the request arrived. */
  time: Date;
  code: AuditEventCode;
  /** Null when authentication failed. */
  principal: Principal | null;
  /** The Sluice connection (target) the request is addressed to. */
  connection: string;
  method: string;
  /** Canonical URL path. */
  path: string;
  /** Raw query string without `?` and without any `access_token` parameter. */
  query: string;
  userAgent?: string;
  sourceIp: string;
  /** Absent when classification failed. */
  attributes?: AuditAttributes;
  decision?: AuditDecision;
  /** Why the request was refused before authorization (e.g. AUTHN_INVALID, REQUEST_INVALID). */
  error?: AuditError;
  /** The approval this record belongs to: a request held for review, or an approval transition. */
  approvalId?: string;
  /** What an event carries beyond the common fields (approval transitions: state, votes, reason…). */
  detail?: Record<string, unknown>;
}

/** What the gateway knows when the response is complete (or the connection ended). */
/**
 * What masking did to a response: how many values per field (`Secret data`, `env value`…) and how
 * many findings per value detector (`jwt`, `aws-access-key-id`…); never a value. `lifted` names
 * the policy rules that lifted masking for the request (then nothing was masked).
 */
export interface AuditMasking {
  fields: Record<string, number>;
  detectors: Record<string, number>;
  /** Lines of logs or exec output longer than the bound, masked conservatively. */
  oversizeLines?: number;
  lifted?: string[];
}

export interface AuditOutcome {
  /** HTTP status sent to the client (101 for upgrades; 0 when the client went away before a status was sent). */
  status: number;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  error?: AuditError;
  /** Present when masking applied to the response (or was lifted by policy). */
  masking?: AuditMasking;
  /**
   * What an event learned by its end, beyond the common fields: for an `mcp.call`, the decision
   * over the Kubernetes requests it made, their ids and the approval that held one (its record is
   * begun before the first of them; see docs/audit-events.md).
   */
  detail?: Record<string, unknown>;
}

/** A stored outcome: the gateway's outcome plus when the store recorded it. */
export interface AuditCompletion extends AuditOutcome {
  completedAt: Date;
}

/** A record as read back from a store. */
export interface AuditRecord extends AuditBegin {
  /** Position in the store's insertion order (assigned by the store; increases strictly). */
  seq: number;
  /** Absent while the request is in flight (or when the gateway stopped before it completed). */
  outcome?: AuditCompletion;
}

/**
 * The streams a request's recording holds (issue #6): `request` and `response` bodies as the
 * client sent and received them (masked), and for exec/attach sessions `stdin`, `stdout`,
 * `stderr` (masked), `resize` (the JSON of a resize message) and `status` (the error channel's
 * Kubernetes Status at the end of the session).
 */
export type RecordedStream = 'request' | 'response' | 'stdin' | 'stdout' | 'stderr' | 'resize' | 'status';

/** One recorded piece of a stream, with its offset since the request began (µs). */
export interface RecordedChunk {
  stream: RecordedStream;
  /** Microseconds since the request began. */
  tUs: number;
  data: Buffer;
}

export interface AuditHandle {
  /**
   * Record bytes of one of the request's streams as they were sent (after masking). Chunks are
   * timestamped now and stored with the record, within the recording caps; past a cap only the
   * byte count goes on. Never throws; a no-op when recording is off.
   *
   * `withhold`: count the bytes but store nothing — for bytes the client received unmasked
   * (masking lifted by policy): the trail never holds secrets in clear (SECURITY.md, Audit).
   */
  record(stream: RecordedStream, data: Buffer, withhold?: boolean): void;
  /**
   * The error that stopped the recording of a stream in flight (a `body.segment` the store
   * refused), or undefined. The data path cuts the stream then: a client never keeps receiving
   * an answer the trail does not hold. The completion rejects with it too.
   */
  recordingFailure(): Error | undefined;
  /**
   * Write the record now; resolves once it is durable, rejects (SluiceError STORE_UNAVAILABLE)
   * when it could not be written — then the gateway must refuse the request (fail closed).
   * Idempotent: later calls return the first call's promise.
   */
  commit(): Promise<void>;
  /**
   * Record the outcome: added to the committed record, or — when `commit()` was never called —
   * written together with it in one commit. Idempotent: later calls return the first call's promise.
   */
  complete(outcome: AuditOutcome): Promise<void>;
}

export interface AuditRecorder {
  /**
   * Start the record of a request: checked (a TypeError for a malformed entry) and scrubbed of
   * credentials now, written by the handle's `commit()` or `complete()`.
   */
  begin(entry: AuditBegin): AuditHandle;
  /** Wait for writes in flight, then close the store (the recorder owns the store it is given, unless told otherwise). */
  close(): Promise<void>;
}
