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
};

export const sqliteMigrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(SQLITE_MIGRATIONS),
};
