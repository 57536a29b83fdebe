/**
 * The tables of the SQL store as Kysely sees them. Dialect-neutral on purpose: times are integer
 * milliseconds since the epoch, booleans are 0/1 integers and lists are JSON text, so the same
 * queries (src/store/sql/*) run on SQLite and on PostgreSQL (BIGINT/SMALLINT/TEXT columns).
 * Each dialect creates the table in its own migrations.
 */
import type { Generated } from 'kysely';

export interface AuditEventsTable {
  /** Insertion order; never reused (SQLite AUTOINCREMENT, PostgreSQL identity). */
  seq: Generated<number>;
  id: string;
  time: number;
  code: string;
  principal_issuer: string | null;
  principal_subject: string | null;
  principal_username: string | null;
  /** JSON array of strings. */
  principal_groups: string | null;
  principal_kind: string | null;
  connection: string;
  method: string;
  path: string;
  query: string;
  user_agent: string | null;
  source_ip: string;
  /** Classified attributes: all null when classification failed (`is_resource_request` is null then). */
  verb: string | null;
  api_group: string | null;
  api_version: string | null;
  resource: string | null;
  subresource: string | null;
  namespace: string | null;
  name: string | null;
  is_resource_request: number | null;
  attributes_path: string | null;
  decision: string | null;
  /** JSON array of rule ids. */
  decision_rules: string | null;
  decision_message: string | null;
  policy_digest: string | null;
  error_code: string | null;
  error_message: string | null;
  status: number | null;
  bytes_in: number | null;
  bytes_out: number | null;
  duration_ms: number | null;
  completed_at: number | null;
  outcome_error_code: string | null;
  outcome_error_message: string | null;
  /** JSON of AuditMasking (migration 0003). */
  masking: string | null;
  /** JSON object: what a record learned by its end (AuditOutcome.detail; an MCP call's decision); migration 0005. */
  outcome_detail: string | null;
  /** The approval a record belongs to (held requests, approval transitions); migration 0002. */
  approval_id: string | null;
  /** JSON object: what an event carries beyond the common fields (approval transitions). */
  detail: string | null;
  /** seq of the record's begin event in `trail` (migration 0004); null for records older than the trail. */
  begin_seq: number | null;
}

/** The hash-chained trail (ADR 0002): append-only, one row per event. */
export interface TrailTable {
  seq: number;
  chain: string;
  type: string;
  ref: string | null;
  /** seq of the record's begin event (own seq for begins and one-shot records); null for the trail's own events. */
  rec: number | null;
  time: number;
  /** Canonical JSON, hashed verbatim. */
  event: string;
  /** 32 bytes. */
  hash: Buffer;
}

/** Recorded bodies and terminal streams, outside the chain (committed by digest). */
export interface TrailChunkTable {
  begin_seq: number;
  stream: string;
  n: number;
  t_us: number;
  data: Buffer;
}

export interface TrailChainsTable {
  chain: string;
  created_at: number;
}

/** Approvals (held requests and access grants) as JSON documents with the columns queries need. */
export interface ApprovalsTable {
  id: string;
  kind: string;
  state: string;
  hash: string;
  requester_issuer: string;
  requester_subject: string;
  requester_username: string;
  created_at: number;
  expires_at: number;
  /** The whole Approval as JSON (dates as ISO strings). */
  doc: string;
}

export interface StoreDatabase {
  audit_events: AuditEventsTable;
  approvals: ApprovalsTable;
  trail: TrailTable;
  trail_chunk: TrailChunkTable;
  trail_chains: TrailChainsTable;
}
