/**
 * Keyset cursor of audit listings: the (time, seq) of the last record of a page. Opaque to
 * callers (`<time ms>.<seq>`); shared by every adapter so cursors look alike everywhere.
 */
import { SluiceError } from '../core/errors.ts';
import { AUDIT_LIST_DEFAULT_LIMIT, AUDIT_LIST_MAX_LIMIT, type AuditListFilter } from './audit-store.ts';

export interface ListPosition {
  timeMs: number;
  seq: number;
}

export function encodeCursor(p: ListPosition): string {
  return `${p.timeMs}.${p.seq}`;
}

export function decodeCursor(cursor: string): ListPosition {
  const m = /^(\d{1,16})\.(\d{1,16})$/.exec(cursor);
  if (!m) throw new SluiceError('AUDIT_QUERY_INVALID', `invalid audit cursor ${JSON.stringify(cursor.slice(0, 40))}`);
  return { timeMs: Number(m[1]), seq: Number(m[2]) };
}

/** The page size a filter asks for: default 50, integers 1…1000. */
export function listLimit(filter: AuditListFilter): number {
  const limit = filter.limit ?? AUDIT_LIST_DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > AUDIT_LIST_MAX_LIMIT) {
    throw new SluiceError('AUDIT_QUERY_INVALID', `audit list limit must be an integer from 1 to ${AUDIT_LIST_MAX_LIMIT}, got ${limit}`);
  }
  return limit;
}

/** Validates the parts of a filter every adapter must refuse alike. */
export function checkFilter(filter: AuditListFilter): { limit: number; before?: ListPosition } {
  for (const d of [filter.since, filter.until]) {
    if (d !== undefined && !(d instanceof Date && Number.isFinite(d.getTime()))) {
      throw new SluiceError('AUDIT_QUERY_INVALID', 'audit list time bounds must be valid dates');
    }
  }
  if (filter.idPrefix !== undefined && !/^[0-9a-f-]{1,36}$/.test(filter.idPrefix)) {
    throw new SluiceError('AUDIT_QUERY_INVALID', 'an audit id prefix consists of hex digits and dashes');
  }
  return { limit: listLimit(filter), ...(filter.before !== undefined ? { before: decodeCursor(filter.before) } : {}) };
}
