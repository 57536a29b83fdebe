/**
 * In-memory AuditStore: the fake for tests that need a store but not SQLite. Keeps the port's
 * contract exactly (the conformance suite runs against it too), including copies in and out so
 * callers cannot change stored records, and a `fail` switch to simulate an unavailable store.
 */
import { SluiceError } from '../../core/errors.ts';
import type { AuditBegin, AuditCompletion, AuditRecord } from '../../audit/types.ts';
import type { AuditListFilter, AuditPage, AuditStore } from '../audit-store.ts';
import { checkFilter, encodeCursor } from '../list-cursor.ts';

export interface MemoryAuditStore extends AuditStore {
  /** While set, every operation rejects with STORE_UNAVAILABLE and this message. */
  failWith: string | undefined;
}

export function createMemoryAuditStore(): MemoryAuditStore {
  const records = new Map<string, AuditRecord>();
  let seq = 0;
  let closed = false;
  const check = (op: string): void => {
    if (closed) throw new SluiceError('STORE_UNAVAILABLE', `store unavailable (${op}): the store is closed`, { operation: op });
    if (store.failWith !== undefined) throw new SluiceError('STORE_UNAVAILABLE', `store unavailable (${op}): ${store.failWith}`, { operation: op });
  };
  const store: MemoryAuditStore = {
    failWith: undefined,
    async insert(entry: AuditBegin, completion?: AuditCompletion) {
      check('insert');
      if (records.has(entry.id)) {
        throw new SluiceError('STORE_UNAVAILABLE', 'store refused the audit record: its id exists already', { operation: 'insert', duplicate: true });
      }
      records.set(entry.id, { ...structuredClone(entry), seq: ++seq, ...(completion ? { outcome: structuredClone(completion) } : {}) });
    },
    async complete(id: string, c: AuditCompletion) {
      check('complete');
      const r = records.get(id);
      if (!r || r.outcome) return false;
      r.outcome = structuredClone(c);
      return true;
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
    (f.since === undefined || t >= f.since.getTime()) &&
    (f.until === undefined || t < f.until.getTime())
  );
}
