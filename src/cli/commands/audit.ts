/**
 * `sluice audit list` and `sluice audit show <id|prefix>`: read the audit records of the
 * embedded SQLite store (docs/audit-events.md). They open the database file read-only and
 * directly; once the control API exists they will read through it (and work against
 * PostgreSQL-backed gateways too).
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.ts';
import { SluiceError } from '../../core/errors.ts';
import type { Effect } from '../../core/decision.ts';
import type { AuditListFilter, AuditStore } from '../../store/audit-store.ts';
import { AUDIT_LIST_MAX_LIMIT } from '../../store/audit-store.ts';
import { openSqliteAuditStore } from '../../store/sqlite/open-sqlite-audit-store.ts';
import { LIST_COLUMNS, formatRecord, formatTable, listRow, recordJson } from '../audit-format.ts';

interface StoreOptions {
  config?: string;
  db?: string;
}

interface ListOptions extends StoreOptions {
  user?: string;
  verb?: string;
  namespace?: string;
  decision?: string;
  approval?: string;
  since?: string;
  until?: string;
  limit?: string;
  before?: string;
  json?: boolean;
}

const NOTE = 'Reads the SQLite store file directly (store.sqlite.path, or --db), read-only; a later version reads through the control API.';
const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `1h`, `7d` (that long before now) or an ISO 8601 time. */
export function parseTimeBound(value: string, option: string, now = new Date()): Date {
  const rel = /^(\d+)([smhd])$/.exec(value.trim());
  if (rel) return new Date(now.getTime() - Number(rel[1]) * UNITS[rel[2]!]!);
  const t = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(t)) {
    throw new SluiceError('AUDIT_QUERY_INVALID', `${option} ${JSON.stringify(value)}: expected a duration such as 15m, 1h, 7d or an ISO 8601 time`);
  }
  return new Date(t);
}

async function openStore(opts: StoreOptions): Promise<AuditStore> {
  const path = opts.db ?? (await loadConfig(opts.config)).store.sqlite.path;
  return openSqliteAuditStore({ path, readonly: true });
}

async function withStore<T>(opts: StoreOptions, fn: (s: AuditStore) => Promise<T>): Promise<T> {
  const store = await openStore(opts);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function buildFilter(o: ListOptions): AuditListFilter {
  const f: AuditListFilter = {};
  if (o.user !== undefined) f.user = o.user;
  if (o.verb !== undefined) f.verb = o.verb;
  if (o.namespace !== undefined) f.namespace = o.namespace;
  if (o.decision !== undefined) {
    if (!['allow', 'deny', 'review'].includes(o.decision)) {
      throw new SluiceError('AUDIT_QUERY_INVALID', `--decision ${JSON.stringify(o.decision)}: expected allow, deny or review`);
    }
    f.decision = o.decision as Effect;
  }
  if (o.approval !== undefined) {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(o.approval)) {
      throw new SluiceError('AUDIT_QUERY_INVALID', `--approval ${JSON.stringify(o.approval)}: expected the full approval id (sluice approvals show prints it)`);
    }
    f.approvalId = o.approval;
  }
  const now = new Date();
  if (o.since !== undefined) f.since = parseTimeBound(o.since, '--since', now);
  if (o.until !== undefined) f.until = parseTimeBound(o.until, '--until', now);
  if (o.limit !== undefined) {
    const n = /^\d+$/.test(o.limit) ? Number(o.limit) : NaN;
    if (!(n >= 1 && n <= AUDIT_LIST_MAX_LIMIT)) {
      throw new SluiceError('AUDIT_QUERY_INVALID', `--limit ${JSON.stringify(o.limit)}: expected an integer from 1 to ${AUDIT_LIST_MAX_LIMIT}`);
    }
    f.limit = n;
  }
  if (o.before !== undefined) f.before = o.before;
  return f;
}

export function registerAuditCommands(program: Command): void {
  const audit = program
    .command('audit')
    .description(`Read the audit trail: one record per request (docs/audit-events.md). ${NOTE}`);
  audit
    .command('list')
    .description(`List audit records, newest first. ${NOTE}`)
    .option('--user <name>', 'only requests of this user (principal username, exact)')
    .option('--verb <verb>', 'only this Kubernetes verb (get, list, watch, create, update, patch, delete, …)')
    .option('--namespace <ns>', 'only this namespace')
    .option('--decision <effect>', 'only this decision: allow, deny or review')
    .option('--approval <id>', 'only the records of one approval: its held requests and its transitions (approval.*)')
    .option('--since <when>', 'from this time on: a duration back from now (90s, 15m, 1h, 7d) or an ISO 8601 time')
    .option('--until <when>', 'before this time (same forms as --since)')
    .option('--limit <n>', `at most this many records (1–${AUDIT_LIST_MAX_LIMIT}, default 50)`)
    .option('--before <cursor>', 'continue a listing: the cursor the previous page printed')
    .option('--json', 'print {"records": [...], "next": cursor} as JSON')
    .option('-c, --config <file>', 'configuration file (store.sqlite.path)')
    .option('--db <path>', 'SQLite store file (overrides the configuration)')
    .action(async (opts: ListOptions) => {
      const filter = buildFilter(opts);
      const page = await withStore(opts, (s) => s.list(filter));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ records: page.records.map(recordJson), ...(page.next ? { next: page.next } : {}) }, null, 2)}\n`);
        return;
      }
      if (page.records.length === 0) {
        process.stdout.write('no audit records match\n');
        return;
      }
      process.stdout.write(formatTable(LIST_COLUMNS, page.records.map(listRow)));
      if (page.next) process.stderr.write(`more records: repeat with --before ${page.next}\n`);
    });
  audit
    .command('show')
    .description(`Print every field of one audit record. ${NOTE}`)
    .argument('<id>', 'request id, or a unique prefix of it (as printed by `audit list`)')
    .option('--json', 'print the record as JSON')
    .option('-c, --config <file>', 'configuration file (store.sqlite.path)')
    .option('--db <path>', 'SQLite store file (overrides the configuration)')
    .action(async (id: string, opts: StoreOptions & { json?: boolean }) => {
      const wanted = id.trim().toLowerCase();
      const record = await withStore(opts, async (s) => {
        const { records } = await s.list({ idPrefix: wanted, limit: 5 });
        if (records.length === 0) throw new SluiceError('AUDIT_RECORD_NOT_FOUND', `no audit record with id ${wanted}${wanted.length < 36 ? '…' : ''}`);
        const exact = records.find((r) => r.id === wanted);
        if (exact) return exact;
        if (records.length > 1) {
          throw new SluiceError('AUDIT_RECORD_NOT_FOUND', `id prefix ${wanted} is ambiguous; it matches ${records.map((r) => r.id).join(', ')}${records.length === 5 ? ', …' : ''}`);
        }
        return records[0]!;
      });
      process.stdout.write(opts.json ? `${JSON.stringify(recordJson(record), null, 2)}\n` : formatRecord(record));
    });
}
