/**
 * The audit store port. Every adapter (SQLite now, PostgreSQL for several gateway replicas, the
 * in-memory fake for tests) implements it and runs the one conformance suite in
 * test/unit/store/audit-store.conformance.ts.
 *
 * Contract every adapter keeps:
 * - `insert` resolves only once the record is durable (committed); it rejects with SluiceError
 *   STORE_UNAVAILABLE when the store cannot be written, and with the same code when the id exists.
 *   Given a completion too, it writes the whole record — request and outcome — in one write (a
 *   read whose answer came back before anything was released needs only one commit).
 * - `complete` sets the outcome once; it resolves false when no record with that id is
 *   waiting for an outcome (unknown id, or already completed).
 * - `list` returns records newest first — by `time`, ties broken by `seq` — and a cursor
 *   (`next`) to pass as `before` for the following page.
 * - Failures to reach or write the store are SluiceError STORE_UNAVAILABLE; bad filters are
 *   SluiceError AUDIT_QUERY_INVALID.
 */
import type { AuditBegin, AuditCompletion, AuditRecord } from '../audit/types.ts';
import type { Effect } from '../core/decision.ts';

export const AUDIT_LIST_DEFAULT_LIMIT = 50;
export const AUDIT_LIST_MAX_LIMIT = 1000;

export interface AuditListFilter {
  /** Principal username, exact. */
  user?: string;
  /** Kubernetes verb, exact (`get`, `delete`, …). */
  verb?: string;
  /** Namespace, exact. */
  namespace?: string;
  /** Decision effect. */
  decision?: Effect;
  /** Event code, exact. */
  code?: string;
  /** Connection, exact. */
  connection?: string;
  /** Approval id, exact: the held requests and transitions of one approval. */
  approvalId?: string;
  /** Records whose id starts with this (lower-case hex and dashes); for `sluice audit show <prefix>`. */
  idPrefix?: string;
  /** Inclusive lower bound on `time`. */
  since?: Date;
  /** Exclusive upper bound on `time`. */
  until?: Date;
  /** Page size: default 50, at most 1000. */
  limit?: number;
  /** Cursor: the `next` of the previous page. */
  before?: string;
}

export interface AuditPage {
  records: AuditRecord[];
  /** Present when more records may follow; pass it as `before`. */
  next?: string;
}

export interface AuditStore {
  insert(entry: AuditBegin, completion?: AuditCompletion): Promise<void>;
  complete(id: string, completion: AuditCompletion): Promise<boolean>;
  get(id: string): Promise<AuditRecord | undefined>;
  list(filter?: AuditListFilter): Promise<AuditPage>;
  close(): Promise<void>;
}
