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

/** Longest value of a text filter (usernames, groups, namespaces, … and the `text` substring). */
export const MAX_FILTER_LENGTH = 256;
/** Longest issuer of a `principal` filter (an issuer URL). */
const MAX_ISSUER_LENGTH = 2048;
/** C0 and C1 control characters and DEL (newlines, escapes, NUL): never part of a name or search text. */
function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}
const EFFECTS: readonly string[] = ['allow', 'deny', 'review'];

function checkText(name: string, value: unknown, max = MAX_FILTER_LENGTH): void {
  if (value === undefined) return;
  if (typeof value !== 'string') throw new SluiceError('AUDIT_QUERY_INVALID', `audit filter ${name} must be a string`);
  if (value.length > max) throw new SluiceError('AUDIT_QUERY_INVALID', `audit filter ${name} is longer than ${max} characters`);
  if (hasControlChar(value)) throw new SluiceError('AUDIT_QUERY_INVALID', `audit filter ${name} contains a control character`);
}

/** The text filters: bounded, printable strings; `resource` is `res` or `res/sub`, `text` not empty. */
function checkTexts(f: AuditListFilter): void {
  for (const k of ['user', 'verb', 'namespace', 'code', 'connection', 'approvalId', 'group', 'resource', 'text'] as const) checkText(k, f[k]);
  if (f.decision !== undefined && !EFFECTS.includes(f.decision)) {
    throw new SluiceError('AUDIT_QUERY_INVALID', `audit filter decision must be allow, deny or review, got ${JSON.stringify(String(f.decision).slice(0, 40))}`);
  }
  if (f.resource !== undefined && !/^[^/\s]+(\/[^/\s]+)?$/.test(f.resource)) {
    throw new SluiceError('AUDIT_QUERY_INVALID', 'audit filter resource is `resource` or `resource/subresource`, e.g. pods or pods/exec');
  }
  if (f.text !== undefined && f.text.length === 0) throw new SluiceError('AUDIT_QUERY_INVALID', 'audit filter text must not be empty');
  if (f.principal !== undefined) {
    if (typeof f.principal !== 'object' || f.principal === null) throw new SluiceError('AUDIT_QUERY_INVALID', 'audit filter principal is {issuer, subject}');
    checkText('principal.issuer', f.principal.issuer, MAX_ISSUER_LENGTH);
    checkText('principal.subject', f.principal.subject);
    if (typeof f.principal.issuer !== 'string' || typeof f.principal.subject !== 'string' || !f.principal.issuer || !f.principal.subject) {
      throw new SluiceError('AUDIT_QUERY_INVALID', 'audit filter principal needs a non-empty issuer and subject');
    }
  }
}

/** Validates the parts of a filter every adapter must refuse alike. */
export function checkFilter(filter: AuditListFilter): { limit: number; before?: ListPosition } {
  checkTexts(filter);
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
