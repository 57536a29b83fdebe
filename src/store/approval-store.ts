/**
 * The approval store port: approvals (held requests, access grants) as documents. The SQLite
 * adapter (same database file as the audit trail) and the in-memory fake implement it; the
 * conformance suite is test/unit/store/approval-store.conformance.ts.
 *
 * Contract:
 * - `create` is durable when it resolves; a duplicate id rejects (STORE_UNAVAILABLE).
 * - `update` is a read-modify-write in one transaction: `change` gets the current approval and
 *   returns the new one, or undefined for "no change"; an error it throws aborts the transaction
 *   and rejects `update` with that very error (the service throws its SluiceErrors there).
 *   Concurrent updates of one approval are serialized: exactly one of two racing "spend" updates
 *   sees the approval still `approved`.
 * - `findOpen(hash)` returns the approvals with that hash in state pending or approved.
 * - `list` is newest first.
 */
import type { Approval, ApprovalKind, ApprovalState } from '../approval/types.ts';

export interface ApprovalStoreFilter {
  states?: ApprovalState[];
  kind?: ApprovalKind;
  /** Requester's username, exact. */
  requester?: string;
  /** Created at or after. */
  since?: Date;
  limit?: number;
}

export interface ApprovalUpdate {
  approval: Approval;
  changed: boolean;
}

export interface ApprovalStore {
  create(a: Approval): Promise<void>;
  get(id: string): Promise<Approval | undefined>;
  findOpen(hash: string): Promise<Approval[]>;
  list(filter?: ApprovalStoreFilter): Promise<Approval[]>;
  /** Resolves undefined when no approval has that id. */
  update(id: string, change: (current: Approval) => Approval | undefined): Promise<ApprovalUpdate | undefined>;
  close(): Promise<void>;
}

export const APPROVAL_LIST_MAX = 1000;
