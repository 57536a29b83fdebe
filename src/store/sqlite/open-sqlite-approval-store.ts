/**
 * The SQLite ApprovalStore: table `approvals` (migration 0002) in the same database file as the
 * audit trail, on its own connection. Approvals change rarely and each change must be durable at
 * once, so this connection commits with `synchronous=FULL` (an fsync per change, on the event
 * loop — a few per approval, never per proxied request) and `update` runs as one
 * `BEGIN IMMEDIATE` transaction: read, change, write. better-sqlite3 is synchronous, so two
 * updates can never interleave inside the process; the write lock serializes other processes.
 *
 * Open it after the audit store: that one migrates the database.
 */
import Database from 'better-sqlite3';
import { SluiceError } from '../../core/errors.ts';
import { approvalFromJson, approvalToJson } from '../../approval/approval-json.ts';
import type { Approval } from '../../approval/types.ts';
import { APPROVAL_LIST_MAX, type ApprovalStore } from '../approval-store.ts';
import { storeUnavailable } from '../store-unavailable.ts';

interface Row {
  doc: string;
}

/** Carries an error thrown by `change` through the transaction, to tell it from a driver error. */
class ChangeFailed {
  constructor(readonly error: unknown) {}
}

export function openSqliteApprovalStore(opts: { path: string; busyTimeoutMs?: number }): ApprovalStore {
  let sqlite: Database.Database;
  try {
    sqlite = new Database(opts.path, { fileMustExist: true, timeout: opts.busyTimeoutMs ?? 5000 });
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.prepare('select 1 from approvals limit 1').get();
  } catch (e) {
    throw storeUnavailable('open approvals', e);
  }
  const insert = sqlite.prepare(
    'insert into approvals (id, kind, state, hash, requester_issuer, requester_subject, requester_username, created_at, expires_at, doc) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const write = sqlite.prepare('update approvals set state = ?, expires_at = ?, doc = ? where id = ?');
  const byId = sqlite.prepare('select doc from approvals where id = ?');
  const open = sqlite.prepare("select doc from approvals where hash = ? and state in ('pending', 'approved') order by created_at");
  let closed = false;

  const guard = <T>(op: string, fn: () => T): Promise<T> => {
    try {
      if (closed) throw new SluiceError('STORE_UNAVAILABLE', `store unavailable (${op}): the store is closed`, { operation: op });
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(e instanceof SluiceError ? e : storeUnavailable(op, e));
    }
  };
  const parse = (r: Row | undefined): Approval | undefined => (r ? approvalFromJson(JSON.parse(r.doc)) : undefined);
  const doc = (a: Approval): string => JSON.stringify(approvalToJson(a));

  const updateTx = sqlite.transaction((id: string, change: (a: Approval) => Approval | undefined) => {
    const cur = parse(byId.get(id) as Row | undefined);
    if (!cur) return undefined;
    let next: Approval | undefined;
    try {
      next = change(cur);
    } catch (e) {
      throw new ChangeFailed(e);
    }
    if (!next) return { approval: cur, changed: false };
    write.run(next.state, next.expiresAt.getTime(), doc(next), id);
    return { approval: next, changed: true };
  });

  return {
    create: (a) =>
      guard('create', () => {
        insert.run(a.id, a.kind, a.state, a.hash, a.requester.issuer, a.requester.subject, a.requester.username, a.createdAt.getTime(), a.expiresAt.getTime(), doc(a));
      }),
    get: (id) => guard('get', () => parse(byId.get(id) as Row | undefined)),
    findOpen: (hash) => guard('findOpen', () => (open.all(hash) as Row[]).map((r) => parse(r)!)),
    list: (f = {}) =>
      guard('list', () => {
        const where: string[] = [];
        const params: unknown[] = [];
        if (f.states?.length) {
          where.push(`state in (${f.states.map(() => '?').join(', ')})`);
          params.push(...f.states);
        }
        if (f.kind) {
          where.push('kind = ?');
          params.push(f.kind);
        }
        if (f.requester) {
          where.push('requester_username = ?');
          params.push(f.requester);
        }
        if (f.since) {
          where.push('created_at >= ?');
          params.push(f.since.getTime());
        }
        const limit = Math.min(f.limit ?? APPROVAL_LIST_MAX, APPROVAL_LIST_MAX);
        const sql = `select doc from approvals ${where.length ? `where ${where.join(' and ')}` : ''} order by created_at desc, id desc limit ${limit}`;
        return (sqlite.prepare(sql).all(...params) as Row[]).map((r) => parse(r)!);
      }),
    update: (id, change) => {
      if (closed) return Promise.reject(new SluiceError('STORE_UNAVAILABLE', 'store unavailable (update): the store is closed', { operation: 'update' }));
      try {
        return Promise.resolve(updateTx.immediate(id, change));
      } catch (e) {
        // What `change` throws (the service's SluiceErrors, or anything else) passes through unchanged.
        if (e instanceof ChangeFailed) return Promise.reject(e.error as Error);
        return Promise.reject(storeUnavailable('update', e));
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      sqlite.close();
    },
  };
}
