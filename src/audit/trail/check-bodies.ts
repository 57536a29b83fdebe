/**
 * Recorded chunks against the chain (ADR 0002, Decision 2): a record's chunks live outside the
 * chain, which commits to them by digest in the record's newest event that carries `bodies`
 * (its outcome, a `body.segment`, or `request.abandoned`). Each stream's stored chunks must hash
 * (body-digest.ts) to that digest. No chunks at all means they were pruned (retention) or never
 * recorded: reported, not a failure. Used by `sluice audit verify` and before `audit replay`.
 */
import type { RecordedChunk } from '../types.ts';
import type { StoredTrailEvent } from '../../store/audit-store.ts';
import { digestChunks } from './body-digest.ts';
import type { BodyCommitments } from './trail-events.ts';

export type BodyCheckResult =
  | { ok: true; streams: number; pruned: boolean }
  | { ok: false; seq: number; message: string };

/** The newest body commitment among a record's events, with the seq of the event carrying it. */
export function newestCommitment(events: readonly StoredTrailEvent[]): { seq: number; bodies: BodyCommitments } | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (!e.event.includes('"bodies":')) continue;
    const { bodies } = JSON.parse(e.event) as { bodies?: BodyCommitments };
    if (bodies) return { seq: e.seq, bodies };
  }
  return undefined;
}

export function checkRecordedBodies(id: string, committed: { seq: number; bodies: BodyCommitments } | undefined, chunks: readonly RecordedChunk[]): BodyCheckResult {
  if (chunks.length === 0) return { ok: true, streams: 0, pruned: committed !== undefined && Object.values(committed.bodies).some((c) => (c?.chunks ?? 0) > 0) };
  if (!committed) return { ok: false, seq: 0, message: `request ${id} has recorded chunks that no event of the trail commits to` };
  let streams = 0;
  const seen = new Set(chunks.map((c) => c.stream));
  for (const stream of seen) {
    if (!(stream in committed.bodies)) return { ok: false, seq: committed.seq, message: `seq ${committed.seq}: recorded ${stream} of request ${id} is not committed to by the chain` };
  }
  for (const [stream, c] of Object.entries(committed.bodies)) {
    if (!c || c.chunks === 0) continue;
    const got = digestChunks(chunks.filter((k) => k.stream === stream));
    if (got !== c.digest) {
      return { ok: false, seq: committed.seq, message: `seq ${committed.seq}: recorded ${stream} of request ${id} does not match the chain (stored chunks digest ${got.slice(0, 12)}…, committed ${c.digest.slice(0, 12)}…)` };
    }
    streams++;
  }
  return { ok: true, streams, pruned: false };
}
