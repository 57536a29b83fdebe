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
 *
 * The trail (ADR 0002): every write also appends events to the store's hash chain in the same
 * transaction — `insert` a `request.begin` (or a one-shot `record`), a completion a
 * `request.outcome` naming the record by id, `segment` a `body.segment` — with seq and hash
 * assigned in commit order, no gaps, and a failed write leaving no trace. Recorded chunks are
 * stored with the event that commits to them. `trail()` reads the events back in seq order.
 */
import type { AuditBegin, AuditCompletion, AuditRecord, RecordedChunk } from '../audit/types.ts';
import type { BodyCommitments } from '../audit/trail/trail-events.ts';
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
  /** Principal in this group: one element of `principal.groups`, exact. */
  group?: string;
  /**
   * Resource, exact: `pods` is every request on pods, subresources included; `pods/exec` only
   * that subresource.
   */
  resource?: string;
  /**
   * Case-insensitive (ASCII letters) substring of the path or of the query string, where exec
   * commands are (`command=` parameters); also found in its query-encoded form (`/etc/passwd` as
   * `%2Fetc%2Fpasswd`, spaces as `+`). `%`, `_` and `\` are plain characters.
   */
  text?: string;
  /** Principal, exact issuer and subject: the scope of an `auditScope: self` reader. */
  principal?: { issuer: string; subject: string };
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

/** A recorded chunk with its number within the record (strictly increasing over all its streams). */
export interface NumberedChunk extends RecordedChunk {
  n: number;
}

/** Chunks to store with a write, and what its event commits to about the record's bodies. */
export interface RecordingWrite {
  chunks: NumberedChunk[];
  bodies?: BodyCommitments;
}

/** An event of the trail as stored. */
export interface StoredTrailEvent {
  chain: string;
  seq: number;
  type: string;
  ref: string | null;
  time: number;
  /** Canonical JSON, exactly the hashed text. */
  event: string;
  /** Hex of the chain hash. */
  hash: string;
}

export interface TrailRange {
  /** First seq (inclusive); default the oldest kept. */
  fromSeq?: number;
  /** Last seq (inclusive); default the newest. */
  toSeq?: number;
}

export interface AuditStore {
  insert(entry: AuditBegin, completion?: AuditCompletion, recording?: RecordingWrite): Promise<void>;
  complete(id: string, completion: AuditCompletion, recording?: RecordingWrite): Promise<boolean>;
  /**
   * Store more chunks of a record in flight (a watch, `logs -f`, an exec session) and commit them
   * with a `body.segment` event; resolves at commit, false when the record is unknown or complete.
   */
  segment(id: string, recording: RecordingWrite): Promise<boolean>;
  /** A record's recorded chunks in order (empty when none were recorded, or they were pruned). */
  chunks(id: string): Promise<RecordedChunk[]>;
  /** Trail events in seq order. */
  trail(range?: TrailRange): AsyncIterable<StoredTrailEvent>;
  /** The trail events of one record (begin, segments, outcome or abandonment), in seq order. */
  trailOf(id: string): Promise<StoredTrailEvent[]>;
  /** The seq of the newest checkpoint event at or before `seq` (where verification of a range starts). */
  checkpointAtOrBefore(seq: number): Promise<number | undefined>;
  get(id: string): Promise<AuditRecord | undefined>;
  list(filter?: AuditListFilter): Promise<AuditPage>;
  close(): Promise<void>;
}
