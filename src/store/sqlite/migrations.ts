/**
 * Schema migrations of the SQLite store, as code (Kysely Migrator). Names sort in the order they
 * run; a migration, once released, never changes — add a new one.
 */
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

export const SQLITE_MIGRATIONS: Record<string, Migration> = {
  '0001-audit-events': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('audit_events')
        .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('time', 'integer', (c) => c.notNull())
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('principal_issuer', 'text')
        .addColumn('principal_subject', 'text')
        .addColumn('principal_username', 'text')
        .addColumn('principal_groups', 'text')
        .addColumn('principal_kind', 'text')
        .addColumn('connection', 'text', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('query', 'text', (c) => c.notNull())
        .addColumn('user_agent', 'text')
        .addColumn('source_ip', 'text', (c) => c.notNull())
        .addColumn('verb', 'text')
        .addColumn('api_group', 'text')
        .addColumn('api_version', 'text')
        .addColumn('resource', 'text')
        .addColumn('subresource', 'text')
        .addColumn('namespace', 'text')
        .addColumn('name', 'text')
        .addColumn('is_resource_request', 'integer')
        .addColumn('attributes_path', 'text')
        .addColumn('decision', 'text')
        .addColumn('decision_rules', 'text')
        .addColumn('decision_message', 'text')
        .addColumn('policy_digest', 'text')
        .addColumn('error_code', 'text')
        .addColumn('error_message', 'text')
        .addColumn('status', 'integer')
        .addColumn('bytes_in', 'integer')
        .addColumn('bytes_out', 'integer')
        .addColumn('duration_ms', 'integer')
        .addColumn('completed_at', 'integer')
        .addColumn('outcome_error_code', 'text')
        .addColumn('outcome_error_message', 'text')
        .addCheckConstraint('audit_events_decision', sql`decision is null or decision in ('allow', 'deny', 'review')`)
        .execute();
      // Listings are newest first, optionally narrowed by one of these columns.
      await db.schema.createIndex('audit_events_time').on('audit_events').columns(['time', 'seq']).execute();
      for (const col of ['principal_username', 'namespace', 'verb', 'decision']) {
        await db.schema.createIndex(`audit_events_${col}_time`).on('audit_events').columns([col, 'time']).execute();
      }
    },
  },
  '0002-approvals': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('audit_events').addColumn('approval_id', 'text').execute();
      await db.schema.alterTable('audit_events').addColumn('detail', 'text').execute();
      await db.schema.createIndex('audit_events_approval_id').on('audit_events').columns(['approval_id']).where(sql.ref('approval_id'), 'is not', null).execute();
      await db.schema
        .createTable('approvals')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('requester_issuer', 'text', (c) => c.notNull())
        .addColumn('requester_subject', 'text', (c) => c.notNull())
        .addColumn('requester_username', 'text', (c) => c.notNull())
        .addColumn('created_at', 'integer', (c) => c.notNull())
        .addColumn('expires_at', 'integer', (c) => c.notNull())
        .addColumn('doc', 'text', (c) => c.notNull())
        .addCheckConstraint('approvals_kind', sql`kind in ('request', 'grant')`)
        .addCheckConstraint('approvals_state', sql`state in ('pending', 'approved', 'denied', 'expired', 'spent', 'revoked')`)
        .execute();
      await db.schema.createIndex('approvals_hash_state').on('approvals').columns(['hash', 'state']).execute();
      await db.schema.createIndex('approvals_state_expires').on('approvals').columns(['state', 'expires_at']).execute();
      await db.schema.createIndex('approvals_created').on('approvals').columns(['created_at']).execute();
    },
  },
  '0003-masking': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('audit_events').addColumn('masking', 'text').execute();
    },
  },
  '0004-trail': {
    async up(db: Kysely<unknown>) {
      // ADR 0002: the append-only, hash-chained trail; audit_events stays as the query projection.
      await db.schema
        .createTable('trail')
        .addColumn('seq', 'integer', (c) => c.primaryKey())
        .addColumn('chain', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('ref', 'text')
        // The seq of the record's begin event (its own for a begin or a one-shot record): the
        // record's events are found through it. An integer that grows with the trail keeps the
        // index cheap to append to; an index on `ref` (random UUIDs) cost 30 µs per request.
        .addColumn('rec', 'integer')
        .addColumn('time', 'integer', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('hash', 'blob', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('trail_rec').on('trail').columns(['rec']).where(sql.ref('rec'), 'is not', null).execute();
      await db.schema.createIndex('trail_keys').on('trail').columns(['ref']).where(sql.ref('type'), '=', 'trail.key').execute();
      await db.schema.createIndex('trail_checkpoints').on('trail').columns(['seq']).where(sql.ref('type'), '=', 'trail.checkpoint').execute();
      await db.schema
        .createTable('trail_chunk')
        .addColumn('begin_seq', 'integer', (c) => c.notNull())
        .addColumn('stream', 'text', (c) => c.notNull())
        .addColumn('n', 'integer', (c) => c.notNull())
        .addColumn('t_us', 'integer', (c) => c.notNull())
        .addColumn('data', 'blob', (c) => c.notNull())
        .addPrimaryKeyConstraint('trail_chunk_pk', ['begin_seq', 'n'])
        .execute();
      await db.schema
        .createTable('trail_chains')
        .addColumn('chain', 'text', (c) => c.primaryKey())
        .addColumn('created_at', 'integer', (c) => c.notNull())
        .execute();
      // The begin event of each record (its chunks are keyed by it).
      await db.schema.alterTable('audit_events').addColumn('begin_seq', 'integer').execute();
      await db.schema.createIndex('audit_events_begin_seq').on('audit_events').columns(['begin_seq']).execute();
    },
  },
  '0005-outcome-detail': {
    async up(db: Kysely<unknown>) {
      // AuditOutcome.detail: what a record learned by its end (an MCP call's decision, issue #7).
      await db.schema.alterTable('audit_events').addColumn('outcome_detail', 'text').execute();
    },
  },
};

export const sqliteMigrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(SQLITE_MIGRATIONS),
};
