/**
 * `sluice audit list` and `sluice audit show <id|prefix>`: read the audit trail
 * (docs/audit-events.md) through the gateway's control API, as the person running them
 * (../control-client.ts: `--token`, `--server`, `--ca`). The gateway's policy decides what they
 * may read (connection `sluice`, docs/policy.md "Reading the audit trail"), and each read is
 * itself recorded (`audit.read`).
 *
 * `--db <file>` reads a SQLite store file directly instead, read-only and without policy: for an
 * offline audit of a copy the operator already holds. Both ways take the same filters
 * (src/audit/audit-query.ts) and print the same JSON.
 */
import type { Command } from 'commander';
import { recordedBodies, type BodyJson } from '../../control/audit-reads.ts';
import { AUDIT_QUERY_PARAMETERS, auditFilterFromQuery, type AuditQuery } from '../../audit/audit-query.ts';
import { findAuditRecord } from '../find-audit-record.ts';
import { recordFromJson, type AuditPageJson, type AuditRecordJson } from '../../audit/record-json.ts';
import { AUDIT_LIST_MAX_LIMIT } from '../../store/audit-store.ts';
import { addConnectionOptions, withControlClient, type ConnectionFlags } from '../control-client.ts';
import { withStoreFile } from '../store-file.ts';
import { LIST_COLUMNS, formatRecord, formatTable, listRow, recordJson } from '../audit-format.ts';

interface SourceOptions extends ConnectionFlags {
  db?: string;
}

type ListOptions = SourceOptions & AuditQuery & { json?: boolean };

const NOTE = 'Reads through the gateway\'s control API as you (--token or $SLUICE_TOKEN), as far as its policy lets you; --db <file> reads a copied SQLite store file directly instead.';

/** The query parameters of the options (the names are the same). */
function queryOf(o: ListOptions): AuditQuery {
  const q: AuditQuery = {};
  for (const k of AUDIT_QUERY_PARAMETERS) {
    if (o[k] !== undefined) q[k] = o[k];
  }
  return q;
}


/** The recorded bodies after the record: each stream's text, and what the trail says of it. */
function formatBodies(b: BodyJson): string {
  let out = b.verified ? '' : `\nWARNING: the recorded bodies do not match the trail: ${b.problem ?? ''}\n`;
  for (const stream of ['request', 'response'] as const) {
    const c = b.bodies?.[stream];
    const data = Buffer.concat(b.chunks.filter((k) => k.stream === stream).map((k) => Buffer.from(k.data, 'base64')));
    if (!c && data.length === 0) continue;
    const notes = [c ? `${c.recordedBytes} of ${c.totalBytes} bytes recorded` : `${data.length} bytes`, c?.truncated ? 'truncated at the cap' : '', c?.withheld ? 'withheld: sent unmasked, so not recorded' : ''].filter(Boolean);
    out += `\n--- ${stream} body (${notes.join(', ')})\n${data.toString('utf8')}${data.length && !data.toString('utf8').endsWith('\n') ? '\n' : ''}`;
  }
  return out || '\n(no recorded body)\n';
}

function printPage(page: AuditPageJson, json: boolean | undefined): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
    return;
  }
  if (page.records.length === 0) {
    process.stdout.write('no audit records match\n');
    return;
  }
  process.stdout.write(formatTable(LIST_COLUMNS, page.records.map((r) => listRow(recordFromJson(r)))));
  if (page.next) process.stderr.write(`more records: repeat with --before ${page.next}\n`);
}

export function registerAuditCommands(program: Command): void {
  const audit = program
    .command('audit')
    .description(`Read the audit trail: one record per request (docs/audit-events.md). ${NOTE}`);
  addConnectionOptions(
    audit
      .command('list')
      .description(`List audit records, newest first. ${NOTE} Example: sluice audit list --user bob --namespace prod --since today`)
      .option('--user <name>', 'only requests of this user (principal username, exact)')
      .option('--group <group>', 'only requests of members of this group (exact)')
      .option('--connection <name>', 'only this connection (`sluice`: reads of the audit trail itself)')
      .option('--verb <verb>', 'only this Kubernetes verb (get, list, watch, create, update, patch, delete, …)')
      .option('--namespace <ns>', 'only this namespace')
      .option('--resource <resource>', 'only this resource: pods (with its subresources) or pods/exec')
      .option('--decision <effect>', 'only this decision: allow, deny or review')
      .option('--approval <id>', 'only the records of one approval: its held requests and its transitions (approval.*)')
      .option('--code <code>', 'only this event code (kubernetes.request, authn.failed, approval.approved, audit.read, …)')
      .option('--text <text>', 'case-insensitive text in the path, query or exec command (e.g. passwd)')
      .option('--since <when>', 'from this time on: a duration back from now (90s, 15m, 1h, 7d), today (since 00:00 UTC) or an ISO 8601 time')
      .option('--until <when>', 'before this time (same forms as --since)')
      .option('--limit <n>', `at most this many records (1–${AUDIT_LIST_MAX_LIMIT}, default 50)`)
      .option('--before <cursor>', 'continue a listing: the cursor the previous page printed')
      .option('--json', 'print {"records": [...], "next": cursor} as JSON')
      .option('--db <file>', 'read this SQLite store file directly (offline, read-only, no policy) instead of the control API'),
  ).action(async (opts: ListOptions) => {
    const query = queryOf(opts);
    // Checked here too, so a typo is reported before any connection is made.
    const filter = auditFilterFromQuery(query, new Date());
    if (opts.db !== undefined) {
      const page = await withStoreFile({ db: opts.db }, (s) => s.list(filter));
      printPage({ records: page.records.map(recordJson), ...(page.next ? { next: page.next } : {}) }, opts.json);
      return;
    }
    const page = await withControlClient(opts, (client) => client.get<AuditPageJson>('/audit/events', { ...query }));
    printPage(page, opts.json);
  });
  addConnectionOptions(
    audit
      .command('show')
      .description(`Print every field of one audit record. ${NOTE}`)
      .argument('<id>', 'request id, or a unique prefix of it (as printed by `audit list`)')
      .option('--json', 'print the record as JSON')
      .option('--body', 'also print the recorded request and response bodies (masked as recorded; the policy must grant events/body)')
      .option('--db <file>', 'read this SQLite store file directly (offline, read-only, no policy) instead of the control API'),
  ).action(async (id: string, opts: SourceOptions & { json?: boolean; body?: boolean }) => {
    const wanted = id.trim().toLowerCase();
    if (opts.body) {
      const b: BodyJson =
        opts.db !== undefined
          ? await withStoreFile({ db: opts.db }, async (s) => recordedBodies(s, await findAuditRecord(s, wanted)))
          : await withControlClient(opts, (client) => client.get<BodyJson>(`/audit/events/${encodeURIComponent(wanted)}/body`));
      process.stdout.write(opts.json ? `${JSON.stringify(b, null, 2)}\n` : `${formatRecord(recordFromJson(b.record))}${formatBodies(b)}`);
      return;
    }
    const json: AuditRecordJson =
      opts.db !== undefined
        ? recordJson(await withStoreFile({ db: opts.db }, (s) => findAuditRecord(s, wanted)))
        : await withControlClient(opts, (client) => client.get<AuditRecordJson>(`/audit/events/${encodeURIComponent(wanted)}`));
    process.stdout.write(opts.json ? `${JSON.stringify(json, null, 2)}\n` : formatRecord(recordFromJson(json)));
  });
}
