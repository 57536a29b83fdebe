/**
 * The JSON Lines export of the trail (ADR 0002, Decision 6), for `sluice audit export` and the
 * control API: the events of the records that match a filter, in seq order, each line as
 * export-line.ts writes it. Everything else becomes stub lines that keep the chain checkable:
 * a run of hidden events collapses into one stub carrying the hash of its last event, so the
 * next visible event — and every signed checkpoint — verifies against it. A scoped reader (bob,
 * `auditScope: self`) can thus verify his own events without seeing anyone else's.
 *
 * What is visible: the events of every matching record (begin, outcome, segments, abandonment)
 * and the trail's own events (opened/closed, keys, checkpoints, prunes), which hold no one's data
 * and anchor verification. Without a filter, everything.
 */
import type { AuditListFilter, AuditStore, StoredTrailEvent, TrailRange } from '../../store/audit-store.ts';
import { AUDIT_LIST_MAX_LIMIT } from '../../store/audit-store.ts';
import { exportLine, exportStubLine } from './export-line.ts';

export interface ExportOptions {
  /** Only the events of records that match (with stubs for the rest); absent: every event. */
  filter?: Omit<AuditListFilter, 'limit' | 'before'>;
  range?: TrailRange;
}

export interface ExportCounts {
  events: number;
  stubs: number;
}

/** The ids of every record the filter matches (all pages). */
async function matchingIds(store: Pick<AuditStore, 'list'>, filter: ExportOptions['filter']): Promise<Set<string>> {
  const ids = new Set<string>();
  let before: string | undefined;
  do {
    const page = await store.list({ ...filter, limit: AUDIT_LIST_MAX_LIMIT, ...(before ? { before } : {}) });
    for (const r of page.records) ids.add(r.id);
    before = page.next;
  } while (before);
  return ids;
}

/**
 * Writes the export line by line through `write` (which may return a promise to apply
 * back-pressure); resolves with what was written.
 */
export async function exportTrail(store: Pick<AuditStore, 'list' | 'trail'>, opts: ExportOptions, write: (line: string) => void | Promise<void>): Promise<ExportCounts> {
  const ids = opts.filter ? await matchingIds(store, opts.filter) : undefined;
  const counts: ExportCounts = { events: 0, stubs: 0 };
  let hidden: { first: StoredTrailEvent; last: StoredTrailEvent } | undefined;
  const flushStub = async (): Promise<void> => {
    if (!hidden) return;
    await write(`${exportStubLine({ chain: hidden.last.chain, fromSeq: hidden.first.seq, toSeq: hidden.last.seq, hash: hidden.last.hash })}\n`);
    counts.stubs++;
    hidden = undefined;
  };
  for await (const e of store.trail(opts.range)) {
    const visible = !ids || e.type.startsWith('trail.') || (e.ref !== null && ids.has(e.ref));
    if (!visible) {
      if (hidden) hidden.last = e;
      else hidden = { first: e, last: e };
      continue;
    }
    await flushStub();
    await write(`${exportLine(e)}\n`);
    counts.events++;
  }
  await flushStub();
  return counts;
}
