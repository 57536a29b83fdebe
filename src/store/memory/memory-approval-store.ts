/**
 * In-memory ApprovalStore: the fake for tests. Copies in and out like the SQLite adapter (which
 * stores JSON), and `failWith` to simulate an unavailable store.
 */
import { SluiceError } from '../../core/errors.ts';
import { approvalFromJson, approvalToJson } from '../../approval/approval-json.ts';
import type { Approval } from '../../approval/types.ts';
import { APPROVAL_LIST_MAX, type ApprovalStore, type ApprovalStoreFilter } from '../approval-store.ts';

export interface MemoryApprovalStore extends ApprovalStore {
  failWith: string | undefined;
}

const copy = (a: Approval): Approval => approvalFromJson(approvalToJson(a));

export function createMemoryApprovalStore(): MemoryApprovalStore {
  const docs = new Map<string, Approval>();
  let closed = false;
  const check = (op: string): void => {
    if (closed) throw new SluiceError('STORE_UNAVAILABLE', `store unavailable (${op}): the store is closed`, { operation: op });
    if (store.failWith !== undefined) throw new SluiceError('STORE_UNAVAILABLE', `store unavailable (${op}): ${store.failWith}`, { operation: op });
  };
  const store: MemoryApprovalStore = {
    failWith: undefined,
    async create(a) {
      check('create');
      if (docs.has(a.id)) throw new SluiceError('STORE_UNAVAILABLE', 'store refused the approval: its id exists already', { duplicate: true });
      docs.set(a.id, copy(a));
    },
    async get(id) {
      check('get');
      const a = docs.get(id);
      return a ? copy(a) : undefined;
    },
    async findOpen(hash) {
      check('findOpen');
      return [...docs.values()].filter((a) => a.hash === hash && (a.state === 'pending' || a.state === 'approved')).map(copy);
    },
    async list(f: ApprovalStoreFilter = {}) {
      check('list');
      return [...docs.values()]
        .filter(
          (a) =>
            (!f.states || f.states.includes(a.state)) &&
            (!f.kind || a.kind === f.kind) &&
            (!f.requester || a.requester.username === f.requester) &&
            (!f.since || a.createdAt >= f.since),
        )
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
        .slice(0, Math.min(f.limit ?? APPROVAL_LIST_MAX, APPROVAL_LIST_MAX))
        .map(copy);
    },
    async update(id, change) {
      check('update');
      const cur = docs.get(id);
      if (!cur) return undefined;
      const next = change(copy(cur));
      if (!next) return { approval: copy(cur), changed: false };
      docs.set(id, copy(next));
      return { approval: copy(next), changed: true };
    },
    async close() {
      closed = true;
    },
  };
  return store;
}
