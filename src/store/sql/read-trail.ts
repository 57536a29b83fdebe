/**
 * Reads of the trail (ADR 0002), dialect-neutral (Kysely): a record's events and recorded chunks,
 * and where verification of a range starts (the newest checkpoint at or before it). The whole
 * trail in seq order is read by each adapter its own fastest way (SQLite: raw pages).
 */
import type { Kysely } from 'kysely';
import type { RecordedChunk, RecordedStream } from '../../audit/types.ts';
import type { StoredTrailEvent } from '../audit-store.ts';
import type { StoreDatabase } from './schema.ts';

/** PostgreSQL returns BIGINT as a string and BYTEA as a Buffer; SQLite numbers and Buffers. */
const num = (v: number | string): number => Number(v);

/** A record's events, through its begin's seq (the `rec` index; `ref` has none). */
export async function readTrailOf(db: Kysely<StoreDatabase>, id: string): Promise<StoredTrailEvent[]> {
  const record = await db.selectFrom('audit_events').select('begin_seq').where('id', '=', id).executeTakeFirst();
  if (!record || record.begin_seq === null) return [];
  const rows = await db
    .selectFrom('trail')
    .select(['seq', 'chain', 'type', 'ref', 'time', 'event', 'hash'])
    .where('rec', '=', record.begin_seq)
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({ seq: num(r.seq), chain: r.chain, type: r.type, ref: r.ref, time: num(r.time), event: r.event, hash: Buffer.from(r.hash).toString('hex') }));
}

export async function readChunks(db: Kysely<StoreDatabase>, id: string): Promise<RecordedChunk[]> {
  const rows = await db
    .selectFrom('trail_chunk')
    .innerJoin('audit_events', 'audit_events.begin_seq', 'trail_chunk.begin_seq')
    .select(['trail_chunk.stream', 'trail_chunk.t_us', 'trail_chunk.data'])
    .where('audit_events.id', '=', id)
    .orderBy('trail_chunk.n')
    .execute();
  return rows.map((r) => ({ stream: r.stream as RecordedStream, tUs: num(r.t_us), data: Buffer.from(r.data) }));
}

export async function checkpointAtOrBefore(db: Kysely<StoreDatabase>, seq: number): Promise<number | undefined> {
  const row = await db
    .selectFrom('trail')
    .select('seq')
    .where('type', '=', 'trail.checkpoint')
    .where('seq', '<=', seq)
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? num(row.seq) : undefined;
}
