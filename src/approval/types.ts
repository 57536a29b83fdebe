/**
 * Just-in-time approval: the model and the service the rest of Sluice talks to.
 *
 * Two kinds of approval share one lifecycle:
 * - `request`: one held request. A `review` decision opens (or joins) the approval of exactly
 *   that request — identified by a SHA-256 over principal, connection, method, canonical path and
 *   query, and body — and the client's request stays open until it is granted, denied or expires.
 *   A grant is spent by exactly one execution of that request.
 * - `grant`: an access request for a policy-defined role for a while (`prod-write` for 30 min).
 *   Once approved, the role's rules apply to the requester until the grant expires or is revoked.
 *
 * States: pending → approved → spent (requests) | active until `activeUntil` (grants)
 *         pending → denied | expired;  approved → expired (never spent in time);  approved → revoked (grants)
 * Every transition is an audit event (src/audit/event-codes.ts: `approval.*`).
 */
import type { AuditAttributes } from '../audit/types.ts';
import type { Principal } from '../core/principal.ts';

export type ApprovalKind = 'request' | 'grant';
export type ApprovalState = 'pending' | 'approved' | 'denied' | 'expired' | 'spent' | 'revoked';

/** States after which nothing changes any more. */
export const FINAL_STATES: readonly ApprovalState[] = ['denied', 'expired', 'spent', 'revoked'];

/** A person (or machine) as an approval remembers them. */
export interface ApprovalPerson {
  issuer: string;
  subject: string;
  username: string;
  groups: string[];
  kind?: 'person' | 'machine';
}

/** What one review rule asks for; an approval needs every requirement met. */
export interface ApprovalRequirement {
  ruleId: string;
  /** Groups whose members may approve (globs); never empty here (defaults applied). */
  approvers: string[];
  /** Distinct eligible approvers needed, never the requester. */
  minApprovals: number;
}

export interface ApprovalVote {
  approver: ApprovalPerson;
  vote: 'approve' | 'deny';
  reason?: string;
  at: Date;
}

/** The held request, as approvers see it (body masked, capped). */
export interface HeldRequest {
  method: string;
  /** Canonical path as the API server sees it (no /clusters/NAME prefix). */
  path: string;
  /** Query string without `?`, credentials removed. */
  query: string;
  attributes: AuditAttributes;
  /** The body as text with secret values masked, at most 64 KiB (a marker says when cut). */
  body?: string;
  contentType?: string;
  /** SHA-256 (hex) of the exact body bytes ('' when none). */
  bodySha256: string;
  /** The audit id of the request that opened the approval. */
  firstRequestId: string;
}

export interface GrantDetails {
  role: string;
  /** How long the role applies once approved. */
  durationMs: number;
  /** Set when approved: the role applies until then (or until revoked). */
  activeUntil?: Date;
}

export interface Approval {
  id: string;
  kind: ApprovalKind;
  state: ApprovalState;
  createdAt: Date;
  /** Pending or unspent approvals turn `expired` at this time (requests: the rule's timeout). */
  expiresAt: Date;
  requester: ApprovalPerson;
  /** The connection the request is addressed to ('' for grants). */
  connection: string;
  /** Request hash (kind request) or `grant:<role>:<issuer>:<subject>:<id>` (kind grant). */
  hash: string;
  request?: HeldRequest;
  grant?: GrantDetails;
  /** Rules that asked for review (requests) or the role's approval rule (grants). */
  rules: string[];
  /** One line for people: the rule's message, or the grant's purpose. */
  message: string;
  requirements: ApprovalRequirement[];
  /** Approvers are not asked until the requester has given a reason. */
  requireReason: boolean;
  /** The requester's reason. */
  reason?: string;
  votes: ApprovalVote[];
  /** When it became approved, denied, expired or revoked. */
  decidedAt?: Date;
  /** Requests: when it was spent and by which audit record. */
  spentAt?: Date;
  spentBy?: string;
  /** Grants: who revoked it and why. */
  revokedBy?: ApprovalPerson;
  revokeReason?: string;
}

/** What the pipeline knows about a request held for review. */
export interface HoldInput {
  principal: Principal;
  connection: string;
  method: string;
  path: string;
  query: string;
  attributes: AuditAttributes;
  body?: Buffer;
  contentType?: string;
  /** The deciding review rules with their settings (Decision.review). */
  requirements: { ruleId: string; approvers: string[]; minApprovals: number; timeoutMs?: number; requireReason?: boolean }[];
  rules: string[];
  message: string;
  /** The audit id of this attempt. */
  requestId: string;
}

/** The approval a held request opened or joined, before waiting. */
export interface OpenedHold {
  approval: Approval;
  /** True when this attempt joined an approval an earlier identical request opened. */
  joined: boolean;
  /**
   * Wait for the decision. Resolves `granted` for exactly one waiting attempt once approved (the
   * grant is spent by it), `conflict` when another attempt spent it, `denied` or `expired`.
   * `signal` aborts the wait (the client went away): the approval stays open for a retry.
   */
  wait(signal: AbortSignal): Promise<HoldResult>;
}

export type HoldResult =
  | { outcome: 'granted'; approval: Approval }
  | { outcome: 'denied' | 'expired' | 'conflict'; approval: Approval }
  | { outcome: 'aborted'; approval: Approval };

/** Filters for listing approvals. */
export interface ApprovalListFilter {
  states?: ApprovalState[];
  kind?: ApprovalKind;
  /** Only approvals this person requested. */
  requester?: string;
  limit?: number;
}

/** The change feed: every transition, for the CLI's --watch, server-sent events and webhooks. */
export interface ApprovalEvent {
  /** Audit event code of the transition, e.g. `approval.requested`. */
  type: string;
  approval: Approval;
  /** Who caused it (absent for expiry). */
  actor?: ApprovalPerson;
  at: Date;
}

/**
 * The approval service. Errors are SluiceError with codes APPROVAL_NOT_FOUND, APPROVAL_FORBIDDEN
 * (not an eligible approver, self-approval, not your request), APPROVAL_CLOSED (already decided),
 * APPROVAL_INVALID (bad input: unknown role, duration over the role's maximum, empty reason),
 * STORE_UNAVAILABLE.
 */
export interface ApprovalService {
  /** Open (or join) the approval of a request held for review; durable when it resolves. */
  hold(input: HoldInput): Promise<OpenedHold>;
  /** An approver approves; resolves with the approval after the vote (state may now be `approved`). */
  approve(id: string, approver: Principal, reason?: string): Promise<Approval>;
  /** An approver denies (final, reason required). */
  deny(id: string, approver: Principal, reason: string): Promise<Approval>;
  /** The requester gives (or replaces) their reason while pending. */
  setReason(id: string, requester: Principal, reason: string): Promise<Approval>;
  /** Ask for a role for a while (a `grant` approval). */
  requestAccess(requester: Principal, role: string, durationMs: number, reason: string): Promise<Approval>;
  /** End an active grant early (its requester or an eligible approver). */
  revoke(id: string, by: Principal, reason?: string): Promise<Approval>;
  /** One approval, if `viewer` may see it (requester or eligible approver). */
  get(id: string, viewer: Principal): Promise<Approval>;
  /** Approvals `viewer` may see, newest first. */
  list(viewer: Principal, filter?: ApprovalListFilter): Promise<Approval[]>;
  /** Whether `viewer` may approve or deny it (eligible, not the requester, still open). */
  canDecide(approval: Approval, viewer: Principal): boolean;
  /** Grants active now, for the policy engine. */
  activeGrants(): readonly Approval[];
  /** Subscribe to transitions; returns the unsubscribe function. */
  subscribe(listener: (e: ApprovalEvent) => void): () => void;
  close(): Promise<void>;
}
