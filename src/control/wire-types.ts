/**
 * The control API's JSON as clients receive it (src/cli, the web console): the approval model
 * and audit records with dates as ISO strings, plus what the API adds for the caller. Types only.
 */
import type { Approval, ApprovalEvent } from '../approval/types.ts';
import type { Jsonified } from '../core/jsonified.ts';

export type { Jsonified } from '../core/jsonified.ts';
/** GET /sluice/v1/audit/events (a page) and /sluice/v1/audit/events/{id} (one record). */
export type { AuditPageJson, AuditRecordJson } from '../audit/record-json.ts';

/** An approval as the control API shows it to one viewer. */
export type ApprovalView = Approval & {
  /** Whether the viewer may approve or deny it now. */
  canDecide: boolean;
};
export type ApprovalJson = Jsonified<ApprovalView>;

/** GET /sluice/v1/whoami */
export interface WhoamiJson {
  username: string;
  groups: string[];
  issuer: string;
  subject: string;
  kind: 'person' | 'machine';
  /** When the caller's token expires (ISO). */
  expiresAt: string;
}

/** GET /sluice/v1/roles: one requestable role. */
export interface RoleJson {
  name: string;
  description?: string;
  maxDurationMs: number;
  /** Who may request it (as the policy says: a group glob or a description). */
  requestableBy: string;
}

/** Data of the first server-sent event, `snapshot`: the pending approvals the viewer may see. */
export interface SnapshotJson {
  approvals: ApprovalJson[];
}

/** Data of every other server-sent event; the event name is `type` (e.g. `approval.approved`). */
export type ApprovalEventJson = Jsonified<Omit<ApprovalEvent, 'approval'>> & { approval: ApprovalJson };

/** Every error answer. */
export interface ErrorJson {
  error: { code: string; message: string };
}
