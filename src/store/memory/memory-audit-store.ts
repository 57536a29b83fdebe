/**
 * In-memory AuditStore: the fake for tests that need a store but not SQLite. Keeps the port's
 * contract exactly (the conformance suite runs against it too), including copies in and out so
 * callers cannot change stored records, and a `fail` switch to simulate an unavailable store.
 */
import { SluiceError } from '../../core/errors.ts';
import type { AuditBegin, AuditCompletion, AuditRecord, RecordedChunk } from '../../audit/types.ts';
import type { AuditListFilter, AuditPage, AuditStore, NumberedChunk, RecordingWrite, StoredTrailEvent, TrailRange } from '../audit-store.ts';
import { TrailChain, type PendingEvent } from '../../audit/trail/trail-chain.ts';
import { beginEvent, beginEventType, outcomeEvent, segmentEvent } from '../../audit/trail/trail-events.ts';
import { matchesText } from '../audit-text-filter.ts';
import { checkFilter, encodeCursor } from '../list-cursor.ts';

export interface MemoryAuditStore extends AuditStore {
  /** While set, every operation rejects with STORE_UNAVAILABLE and this message. */
  failWith: string | undefined;
}

export function createMemoryAuditStore(): MemoryAuditStore {
  const records = new Map<string, AuditRecord>();
  let seq = 0;
  // The trail, as the SQLite writer keeps it (one chain, no checkpoints: there is no signer).
  const chain = new TrailChain('memory', null);
  const trail: StoredTrailEvent[] = [];
  const beginSeqs = new Map<string, number>();
  const chunkRows = new Map<number, NumberedChunk[]>();
  const append = (e: PendingEvent): number => {
    const a = chain.append(e);
    trail.push({ chain: a.chain, seq: a.seq, type: a.type, ref: a.ref, time: a.time, event: a.text, hash: a.hash.toString('hex') });
    return a.seq;
  };
  const keep = (beginSeq: number, chunks: readonly NumberedChunk[]): void => {
    if (chunks.length === 0) return;
    const list = chunkRows.get(beginSeq) ?? [];
    for (const c of chunks) list.push({ ...c, data: Buffer.from(c.data) });
    chunkRows.set(beginSeq, list);
  };
  let closed = false;
  const check = (op: string): void => {
    if (closed) throw new SluiceError('STORE_UNAVAILABLE', `store unavailable (${op}): the store is closed`, { operation: op });
    if (store.failWith !== undefined) throw new SluiceError('STORE_UNAVAILABLE', `store unavailable (${op}): ${store.failWith}`, { operation: op });
  };
  const store: MemoryAuditStore = {
    failWith: undefined,
    async insert(entry: AuditBegin, completion?: AuditCompletion, recording?: RecordingWrite) {
      check('insert');
      if (records.has(entry.id)) {
        throw new SluiceError('STORE_UNAVAILABLE', 'store refused the audit record: its id exists already', { operation: 'insert', duplicate: true });
      }
      records.set(entry.id, { ...structuredClone(entry), seq: ++seq, ...(completion ? { outcome: structuredClone(completion) } : {}) });
      const time = entry.time.getTime();
      const beginSeq = append({ type: beginEventType(entry), ref: entry.id, time, text: beginEvent(entry) });
      beginSeqs.set(entry.id, beginSeq);
      if (completion) append({ type: 'request.outcome', ref: entry.id, time: completion.completedAt.getTime(), text: outcomeEvent(entry.id, completion, recording?.bodies) });
      keep(beginSeq, recording?.chunks ?? []);
    },
    async complete(id: string, c: AuditCompletion, recording?: RecordingWrite) {
      check('complete');
      const r = records.get(id);
      if (!r || r.outcome) return false;
      r.outcome = structuredClone(c);
      append({ type: 'request.outcome', ref: id, time: c.completedAt.getTime(), text: outcomeEvent(id, c, recording?.bodies) });
      keep(beginSeqs.get(id)!, recording?.chunks ?? []);
      return true;
    },
    async segment(id: string, recording: RecordingWrite) {
      check('segment');
      const r = records.get(id);
      if (!r || r.outcome) return false;
      append({ type: 'body.segment', ref: id, time: Date.now(), text: segmentEvent(id, recording.bodies ?? {}) });
      keep(beginSeqs.get(id)!, recording.chunks);
      return true;
    },
    async chunks(id: string): Promise<RecordedChunk[]> {
      check('chunks');
      const beginSeq = beginSeqs.get(id);
      const list = beginSeq === undefined ? [] : (chunkRows.get(beginSeq) ?? []);
      return [...list].sort((a, b) => a.n - b.n).map((c) => ({ stream: c.stream, tUs: c.tUs, data: Buffer.from(c.data) }));
    },
    async *trail(range: TrailRange = {}) {
      check('trail');
      for (const e of trail) if (e.seq >= (range.fromSeq ?? 1) && e.seq <= (range.toSeq ?? Infinity)) yield { ...e };
    },
    async trailOf(id: string) {
      check('trail');
      return trail.filter((e) => e.ref === id).map((e) => ({ ...e }));
    },
    async checkpointAtOrBefore(at: number) {
      check('trail');
      return trail.findLast((e) => e.type === 'trail.checkpoint' && e.seq <= at)?.seq;
    },
    async get(id: string) {
      check('get');
      const r = records.get(id);
      return r ? structuredClone(r) : undefined;
    },
    async list(filter: AuditListFilter = {}): Promise<AuditPage> {
      check('list');
      const { limit, before } = checkFilter(filter);
      const matching = [...records.values()]
        .filter((r) => matches(r, filter))
        .filter((r) => !before || r.time.getTime() < before.timeMs || (r.time.getTime() === before.timeMs && r.seq < before.seq))
        .sort((a, b) => b.time.getTime() - a.time.getTime() || b.seq - a.seq);
      const page = matching.slice(0, limit).map((r) => structuredClone(r));
      const last = page.at(-1);
      return matching.length > limit && last ? { records: page, next: encodeCursor({ timeMs: last.time.getTime(), seq: last.seq }) } : { records: page };
    },
    async close() {
      closed = true;
    },
  };
  return store;
}

function matches(r: AuditRecord, f: AuditListFilter): boolean {
  const t = r.time.getTime();
  return (
    (f.user === undefined || r.principal?.username === f.user) &&
    (f.verb === undefined || r.attributes?.verb === f.verb) &&
    (f.namespace === undefined || r.attributes?.namespace === f.namespace) &&
    (f.decision === undefined || r.decision?.effect === f.decision) &&
    (f.code === undefined || r.code === f.code) &&
    (f.connection === undefined || r.connection === f.connection) &&
    (f.approvalId === undefined || r.approvalId === f.approvalId) &&
    (f.idPrefix === undefined || r.id.startsWith(f.idPrefix)) &&
    (f.group === undefined || (r.principal?.groups.includes(f.group) ?? false)) &&
    (f.resource === undefined || resourceMatches(r, f.resource)) &&
    (f.text === undefined || matchesText(r.path, r.query, f.text)) &&
    (f.principal === undefined || (r.principal?.issuer === f.principal.issuer && r.principal.subject === f.principal.subject)) &&
    (f.since === undefined || t >= f.since.getTime()) &&
    (f.until === undefined || t < f.until.getTime())
  );
}

/** `pods` matches pods and its subresources; `pods/exec` only that subresource. */
function resourceMatches(r: AuditRecord, wanted: string): boolean {
  const [resource, subresource] = wanted.split('/');
  const a = r.attributes;
  return a !== undefined && a.resource === resource && (subresource === undefined || a.subresource === subresource);
}
