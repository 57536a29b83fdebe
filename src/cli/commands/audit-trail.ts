/**
 * `sluice audit verify`, `sluice audit export` and `sluice audit keys …`: the tamper-evident
 * trail (ADR 0002) from the operator's and the auditor's side.
 *
 * - `verify` checks the hash chain and the signed checkpoints of the store (read-only, `--db` or
 *   the configured file) or of an export (`--export trail.jsonl`), over all of it or a range, and
 *   the recorded bodies against the digests the chain commits to; it prints the first broken
 *   link and exits 1. It trusts only the public keys it is given (`--trusted-keys`); without
 *   them it falls back to the gateway's own key file and says so — an auditor keeps the key
 *   exported at setup, because whoever can rewrite the store may also hold that file.
 *   `--against` checks the store against checkpoints kept elsewhere (the log, a webhook sink):
 *   the only way to see that the newest events were cut away.
 * - `export` writes the trail as JSON Lines (export-trail.ts), ready for a SIEM and for `verify`:
 *   through the control API as the person running it (policy decides; outside a scoped reader's
 *   records, stub lines), or from a store file with `--db` (offline, no policy).
 * - `keys generate` creates the signing key ahead of the first start; `keys export` prints its
 *   public key for auditors.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { KeyObject } from 'node:crypto';
import { loadConfig } from '../../config/load-config.ts';
import { withStoreFile, writeStdout, type StoreFileFlags } from '../store-file.ts';
import { AUDIT_QUERY_PARAMETERS, auditFilterFromQuery, type AuditQuery } from '../../audit/audit-query.ts';
import { addConnectionOptions, withControlClient, type ConnectionFlags } from '../control-client.ts';
import { SluiceError } from '../../core/errors.ts';
import type { AuditStore, StoredTrailEvent } from '../../store/audit-store.ts';
import { checkRecordedBodies, newestCommitment } from '../../audit/trail/check-bodies.ts';
import type { CheckpointBody } from '../../audit/trail/checkpoint.ts';
import { parseExportLine } from '../../audit/trail/export-line.ts';
import { exportTrail } from '../../audit/trail/export-trail.ts';
import { generateSigningKey, loadSigningKey, parseTrustedKeys, publicKeyPem } from '../../audit/trail/signing-key.ts';
import { verifyTrail, type TrailItem, type VerifyReport } from '../../audit/trail/verify-trail.ts';
import type { BodyCommitments } from '../../audit/trail/trail-events.ts';

type StoreFlags = StoreFileFlags;

/** An export takes every filter of a listing but its paging. */
const EXPORT_FILTERS = AUDIT_QUERY_PARAMETERS.filter((k): k is Exclude<keyof AuditQuery, 'limit' | 'before'> => k !== 'limit' && k !== 'before');

type ExportFlags = StoreFlags & ConnectionFlags & Pick<AuditQuery, (typeof EXPORT_FILTERS)[number]> & { from?: string; to?: string };

interface VerifyFlags extends StoreFlags {
  from?: string;
  to?: string;
  export?: string;
  trustedKeys?: string;
  against?: string;
  bodies: boolean;
  json?: boolean;
}

const seqOption = (v: string, name: string): number => {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new SluiceError('AUDIT_QUERY_INVALID', `${name} ${JSON.stringify(v)}: expected a trail seq (a positive integer)`);
  return Number(v);
};

/** The keys a verification trusts, and a note when they are the gateway's own. */
async function trustedKeys(o: VerifyFlags): Promise<{ keys: Map<string, KeyObject>; note?: string }> {
  if (o.trustedKeys) return { keys: parseTrustedKeys(await readFile(o.trustedKeys, 'utf8')) };
  const file = (await loadConfig(o.config)).trail.signingKeyFile;
  let signer;
  try {
    ({ signer } = loadSigningKey(file));
  } catch (e) {
    throw new SluiceError('TRAIL_KEY_INVALID', `no --trusted-keys given, and the gateway's own key could not be read (${(e as Error).message}); pass --trusted-keys with the public key exported at setup (sluice audit keys export)`);
  }
  return {
    keys: parseTrustedKeys(publicKeyPem(signer)),
    note: `trusting the gateway's own key ${signer.keyId} (${file}); an auditor passes --trusted-keys with the public key exported at setup`,
  };
}

/**
 * Checkpoints kept outside the store: the gateway's JSON log as it is (its `trail checkpoint`
 * lines carry `checkpoint`; other lines are skipped), webhook deliveries, or bare checkpoint
 * bodies, one JSON object per line.
 */
async function publishedCheckpoints(file: string): Promise<CheckpointBody[]> {
  const out: CheckpointBody[] = [];
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      continue;
    }
    const body = (v as { checkpoint?: unknown }).checkpoint ?? v;
    if (typeof body === 'object' && body !== null && typeof (body as { toSeq?: unknown }).toSeq === 'number' && typeof (body as { toHash?: unknown }).toHash === 'string') {
      out.push(body as CheckpointBody);
    }
  }
  if (out.length === 0) throw new SluiceError('AUDIT_QUERY_INVALID', `${file} holds no checkpoint (expected JSON lines with a "checkpoint" member, as the gateway logs them)`);
  return out;
}

/** Rows of an export file, line by line. */
async function* exportRows(file: string): AsyncGenerator<TrailItem> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim()) yield parseExportLine(line, n);
  }
}

interface BodyCheck {
  checked: number;
  /** Records whose chunks retention deleted (their events still commit to them). */
  pruned: number;
  failure?: { seq: number; message: string };
}

/** Recorded chunks against the chain, for every record whose newest commitment the range holds (check-bodies.ts). */
async function checkBodies(store: AuditStore, commitments: Map<string, { seq: number; bodies: BodyCommitments }>): Promise<BodyCheck> {
  let checked = 0;
  let pruned = 0;
  for (const [id, committed] of commitments) {
    const r = checkRecordedBodies(id, committed, await store.chunks(id));
    if (!r.ok) return { checked, pruned, failure: { seq: r.seq, message: r.message } };
    if (r.streams > 0) checked++;
    if (r.pruned) pruned++;
  }
  return { checked, pruned };
}

/** Passes rows through, remembering each record's newest body commitment. */
async function* noting(rows: AsyncIterable<StoredTrailEvent>, into: Map<string, { seq: number; bodies: BodyCommitments }>): AsyncGenerator<StoredTrailEvent> {
  for await (const r of rows) {
    const c = r.ref !== null ? newestCommitment([r]) : undefined;
    if (c) into.set(r.ref!, c);
    yield r;
  }
}

function printReport(report: VerifyReport, bodies: BodyCheck | undefined, notes: string[], json: boolean | undefined): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...report, notes: [...report.notes, ...notes], ...(bodies ? { bodiesChecked: bodies.checked, bodiesPruned: bodies.pruned, bodyFailure: bodies.failure } : {}) }, null, 2)}\n`);
    return;
  }
  for (const n of [...notes, ...report.notes]) process.stderr.write(`note: ${n}\n`);
  if (!report.ok) {
    process.stdout.write(`FAILED: ${report.failure!.message}\n`);
    return;
  }
  const range = report.fromSeq !== undefined ? ` seq ${report.fromSeq}–${report.toSeq}` : '';
  process.stdout.write(`ok: ${report.events} events${range} of chain ${report.chain ?? '-'}, ${report.checkpoints} signed checkpoints verified`);
  if (report.unsignedTail) process.stdout.write(`; ${report.unsignedTail} newest events not yet under a checkpoint`);
  if (bodies) process.stdout.write(`; ${bodies.checked} recorded bodies match${bodies.pruned ? `, ${bodies.pruned} pruned by retention` : ''}`);
  process.stdout.write('\n');
  if (bodies?.failure) process.stdout.write(`FAILED: ${bodies.failure.message}\n`);
}

export function registerAuditTrailCommands(audit: Command): void {
  audit
    .command('verify')
    .description('Check the trail: hash chain, signed checkpoints and recorded bodies, of the store (read-only) or of an export. Prints the first broken link and exits 1.')
    .option('--from <seq>', 'start at this seq (verification starts at the signed checkpoint at or before it)')
    .option('--to <seq>', 'stop after this seq')
    .option('--export <file>', 'verify a JSON Lines export (sluice audit export) instead of the store')
    .option('--trusted-keys <file>', 'PEM file with the public keys to trust (sluice audit keys export); default: the gateway\'s own key file')
    .option('--against <file>', 'JSON Lines of checkpoints kept elsewhere (log, webhook sink): each must match the store, and none may be newer than it')
    .option('--no-bodies', 'do not check recorded bodies against their digests')
    .option('--json', 'print the report as JSON')
    .option('-c, --config <file>', 'configuration file (store.sqlite.path, trail.signingKeyFile)')
    .option('--db <path>', 'SQLite store file (overrides the configuration)')
    .action(async (o: VerifyFlags) => {
      const { keys, note } = await trustedKeys(o);
      const notes = note ? [note] : [];
      const against = o.against ? await publishedCheckpoints(o.against) : undefined;
      const opts = { trustedKeys: keys, ...(against ? { against } : {}) };
      let report: VerifyReport;
      let bodies: BodyCheck | undefined;
      if (o.export) {
        report = await verifyTrail(exportRows(o.export), { ...opts, recanonicalize: true });
      } else {
        ({ report, bodies } = await withStoreFile(o, async (store) => {
          const to = o.to !== undefined ? seqOption(o.to, '--to') : undefined;
          let fromSeq: number | undefined;
          if (o.from !== undefined) {
            const from = seqOption(o.from, '--from');
            fromSeq = (await store.checkpointAtOrBefore(from)) ?? 1;
            if (fromSeq > 1) notes.push(`starting at the signed checkpoint at seq ${fromSeq}`);
          }
          const commitments = new Map<string, { seq: number; bodies: BodyCommitments }>();
          const rows = store.trail({ ...(fromSeq !== undefined ? { fromSeq } : {}), ...(to !== undefined ? { toSeq: to } : {}) });
          const r = await verifyTrail(o.bodies ? noting(rows, commitments) : rows, opts);
          return { report: r, bodies: r.ok && o.bodies ? await checkBodies(store, commitments) : undefined };
        }));
      }
      printReport(report, bodies, notes, o.json);
      if (!report.ok || bodies?.failure) process.exitCode = 1;
    });

  const exportCmd = audit
    .command('export')
    .description(
      'Write the trail as JSON Lines (one event per line, fields in docs/audit-events.md), for a SIEM and for `audit verify --export`: through the control API as you (what its policy lets you read; events of others become stub lines that keep the chain checkable), or from a store file with --db.',
    )
    .option('--user <name>', 'only the events of requests of this user')
    .option('--group <group>', 'only the events of requests of members of this group')
    .option('--connection <name>', 'only this connection')
    .option('--verb <verb>', 'only this verb')
    .option('--namespace <ns>', 'only this namespace')
    .option('--resource <resource>', 'only this resource (pods, pods/exec)')
    .option('--decision <effect>', 'only this decision: allow, deny or review')
    .option('--approval <id>', 'only the records of one approval')
    .option('--code <code>', 'only this event code')
    .option('--text <text>', 'case-insensitive text in the path, query or exec command')
    .option('--since <when>', 'records from this time on (15m, 1h, 7d, today, ISO 8601)')
    .option('--until <when>', 'records before this time')
    .option('--from <seq>', 'start at the signed checkpoint at or before this seq (so the export verifies on its own)')
    .option('--to <seq>', 'stop after this seq')
    .option('--db <path>', 'read this SQLite store file directly (offline, read-only, no policy)');
  addConnectionOptions(exportCmd).action(async (o: ExportFlags) => {
    const query: AuditQuery = {};
    for (const k of EXPORT_FILTERS) if (o[k] !== undefined) query[k] = o[k];
    if (!o.db) {
      await withControlClient(o, (client) =>
        client.download(
          '/audit/export',
          { ...query, ...(o.from !== undefined ? { fromSeq: String(seqOption(o.from, '--from')) } : {}), ...(o.to !== undefined ? { toSeq: String(seqOption(o.to, '--to')) } : {}) },
          process.stdout,
        ),
      );
      return;
    }
    await withStoreFile({ db: o.db }, async (store) => {
      const fromSeq = o.from !== undefined ? ((await store.checkpointAtOrBefore(seqOption(o.from, '--from'))) ?? 1) : undefined;
      const toSeq = o.to !== undefined ? seqOption(o.to, '--to') : undefined;
      const range = { ...(fromSeq !== undefined ? { fromSeq } : {}), ...(toSeq !== undefined ? { toSeq } : {}) };
      const filter = Object.keys(query).length ? auditFilterFromQuery(query, new Date()) : undefined;
      const counts = await exportTrail(store, { range, ...(filter ? { filter } : {}) }, writeStdout);
      process.stderr.write(`exported ${counts.events} events${counts.stubs ? ` and ${counts.stubs} stub lines` : ''}\n`);
    });
  });

  const keys = audit.command('keys').description("The trail's signing key (trail.signingKeyFile): Ed25519, signs the checkpoints.");
  keys
    .command('generate')
    .description('Create the signing key (PKCS#8 PEM, mode 0600) before the first start; refuses to overwrite one.')
    .option('--file <path>', 'key file (default: trail.signingKeyFile of the configuration)')
    .option('-c, --config <file>', 'configuration file')
    .action(async (o: { file?: string; config?: string }) => {
      const file = o.file ?? (await loadConfig(o.config)).trail.signingKeyFile;
      const signer = generateSigningKey(file);
      process.stdout.write(`created ${file} (key id ${signer.keyId}); give auditors its public key: sluice audit keys export\n`);
    });
  keys
    .command('export')
    .description('Print the public key (PEM) that auditors pass to `sluice audit verify --trusted-keys`.')
    .option('--file <path>', 'key file (default: trail.signingKeyFile of the configuration)')
    .option('-c, --config <file>', 'configuration file')
    .action(async (o: { file?: string; config?: string }) => {
      const file = o.file ?? (await loadConfig(o.config)).trail.signingKeyFile;
      const { signer, warnings } = loadSigningKey(file);
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      process.stdout.write(publicKeyPem(signer));
    });
}
