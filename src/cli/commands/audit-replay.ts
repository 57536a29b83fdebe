/**
 * `sluice audit replay <id|prefix> [--speed N] [--idle-limit S] [--input] [--cast]`: plays a
 * recorded exec/attach session in the terminal (ADR 0002 Decision 5, docs/recording.md), or
 * prints it as an asciicast v2 file (`--cast > session.cast`, for `asciinema play` or
 * asciinema-player). Like `audit list` it reads through the gateway's control API as the person
 * running it — `GET /sluice/v1/audit/events/{id}/terminal`, the guarded `events/terminal` read
 * that the policy must grant by name — or, with `--db` / `-c`, a SQLite store file directly
 * (offline, read-only, no policy).
 *
 * Before playing, the session's chunks are checked against the digest the trail commits to (its
 * outcome, last `body.segment` or `request.abandoned`; check-bodies.ts) — by the gateway, or
 * here for a file: a session changed in the store is refused unless `--unverified` (then played
 * with a warning). The chain itself is what `sluice audit verify` checks.
 */
import type { Command } from 'commander';
import { castText, isTerminalSession, sessionCast } from '../../audit/asciicast.ts';
import { withStoreFile, writeStdout } from '../store-file.ts';
import { SluiceError } from '../../core/errors.ts';
import type { AuditRecord, RecordedChunk } from '../../audit/types.ts';
import { checkRecordedBodies, newestCommitment } from '../../audit/trail/check-bodies.ts';
import { recordFromJson } from '../../audit/record-json.ts';
import type { TerminalJson } from '../../control/audit-reads.ts';
import { addConnectionOptions, withControlClient, type ConnectionFlags } from '../control-client.ts';
import { findAuditRecord } from '../find-audit-record.ts';
import { playCast, realClock } from '../replay-player.ts';

interface ReplayOptions extends ConnectionFlags {
  speed?: string;
  idleLimit?: string;
  input?: boolean;
  cast?: boolean;
  config?: string;
  db?: string;
  unverified?: boolean;
}

const MAX_SPEED = 1000;

function positive(value: string | undefined, option: string, max = Infinity): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
  if (!(n > 0 && n <= max)) throw new SluiceError('AUDIT_QUERY_INVALID', `${option} ${JSON.stringify(value)}: expected a positive number${Number.isFinite(max) ? ` up to ${max}` : ''}`);
  return n;
}

/**
 * The session through the control API, as the person running the command: the gateway's policy
 * decides (`events/terminal`, guarded) and checks the chunks against the trail.
 */
async function loadSessionFromApi(opts: ReplayOptions, id: string): Promise<{ record: AuditRecord; chunks: RecordedChunk[] }> {
  const t = await withControlClient(opts, (client) =>
    client.get<TerminalJson>(`/audit/events/${encodeURIComponent(id.trim().toLowerCase())}/terminal`, { unverified: opts.unverified ? 'true' : undefined }),
  );
  if (!t.verified) process.stderr.write(`sluice: WARNING: session ${t.record.id} does not match the trail: ${t.problem ?? ''}\n`);
  return { record: recordFromJson(t.record), chunks: t.chunks.map((c) => ({ stream: c.stream, tUs: c.tUs, data: Buffer.from(c.data, 'base64') })) };
}

/** The session's record and chunks from a store file; refuses a record that is not a recorded exec/attach session. */
async function loadSession(opts: ReplayOptions, id: string): Promise<{ record: AuditRecord; chunks: RecordedChunk[] }> {
  if (opts.db === undefined && opts.config === undefined) return loadSessionFromApi(opts, id);
  return withStoreFile(opts, async (store) => {
    const record = await findAuditRecord(store, id);
    if (!isTerminalSession(record)) {
      const a = record.attributes;
      const what = a ? `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''}` : record.code;
      throw new SluiceError('AUDIT_NOT_REPLAYABLE', `audit record ${record.id} is not an exec or attach session (it is ${what})`);
    }
    const chunks = await store.chunks(record.id);
    if (!chunks.some((c) => c.stream === 'stdout' || c.stream === 'stderr' || c.stream === 'stdin' || c.stream === 'status')) {
      throw new SluiceError('AUDIT_NOT_REPLAYABLE', `nothing of session ${record.id} was recorded (recording off, refused before it started, or recorded before terminal recording existed)`);
    }
    // The chunks live outside the chain: play them only if they are what the trail committed to.
    const check = checkRecordedBodies(record.id, newestCommitment(await store.trailOf(record.id)), chunks);
    if (!check.ok) {
      if (!opts.unverified) {
        throw new SluiceError('AUDIT_NOT_REPLAYABLE', `session ${record.id} does not match the trail (${check.message}); run sluice audit verify, or --unverified to play it anyway`);
      }
      process.stderr.write(`sluice: WARNING: session ${record.id} does not match the trail: ${check.message}\n`);
    }
    return { record, chunks };
  });
}

/** Adds `replay` to the `audit` command. */
export function registerAuditReplayCommand(audit: Command): void {
  const replay = audit
    .command('replay')
    .description(
      "Play a recorded exec/attach session in this terminal, with its timing (input hidden unless --input), or print it as an asciicast v2 file (--cast). Reads through the gateway's control API as you (the policy must grant events/terminal), or a SQLite store file directly with --db / -c (offline, read-only).",
    )
    .argument('<id>', 'request id of the exec/attach, or a unique prefix of it (as printed by `audit list`)')
    .option('--speed <n>', `playback speed factor, e.g. 2 for twice as fast (default 1, at most ${MAX_SPEED})`)
    .option('--idle-limit <seconds>', 'cap every pause at this many seconds (with --cast: the idle_time_limit of the file)')
    .option('--input', 'show what was typed (stdin, masked like the output) too')
    .option('--cast', 'print the session as an asciicast v2 file instead of playing it')
    .option('-c, --config <file>', 'read the store file of this configuration (store.sqlite.path) instead of the control API')
    .option('--db <path>', 'read this SQLite store file directly (offline, read-only, no policy) instead of the control API')
    .option('--unverified', 'play a session whose recorded chunks do not match the digest the trail commits to (with a warning)');
  addConnectionOptions(replay).action(async (id: string, opts: ReplayOptions) => {
      const speed = positive(opts.speed, '--speed', MAX_SPEED) ?? 1;
      const idleTimeLimit = positive(opts.idleLimit, '--idle-limit');
      const { record, chunks } = await loadSession(opts, id);
      const cast = sessionCast(record, chunks, { input: opts.input === true, ...(opts.cast && idleTimeLimit !== undefined ? { idleTimeLimit } : {}) });
      if (opts.cast) {
        await writeStdout(castText(cast));
        return;
      }
      const { columns, rows } = process.stdout;
      if (process.stdout.isTTY && (columns < cast.header.width || rows < cast.header.height)) {
        process.stderr.write(`sluice: the session was recorded at ${cast.header.width}x${cast.header.height}; this terminal is ${columns}x${rows}\n`);
      }
      if (!record.outcome) process.stderr.write(`sluice: session ${record.id} has no outcome (still running, or the gateway stopped): playing what was recorded\n`);
      await playCast(cast, writeStdout, { speed, input: opts.input === true, ...(idleTimeLimit !== undefined ? { idleTimeLimit } : {}) }, realClock);
      process.stderr.write(`\r\nsluice: session ${record.id} ended${cast.exit ? `: ${cast.exit.marker}` : ' without an exit status'}\n`);
    });
}
