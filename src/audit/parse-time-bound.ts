/**
 * Time bounds of audit queries (`--since`, `--until`, and the control API's `since`/`until`):
 * a duration back from now (`90s`, `15m`, `1h`, `7d`), `today` (since 00:00 UTC of the current
 * day), or an ISO 8601 time (`2026-11-26`, `2026-11-26T10:00:00Z`).
 */
import { SluiceError } from '../core/errors.ts';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** Longest bound accepted (an ISO time with fractions and an offset fits easily). */
const MAX_LENGTH = 64;

/** The Date a bound names; AUDIT_QUERY_INVALID naming `option` when it is none of the forms. */
export function parseTimeBound(value: string, option: string, now = new Date()): Date {
  const v = value.trim();
  const rel = /^(\d{1,9})([smhd])$/.exec(v);
  if (rel) return new Date(now.getTime() - Number(rel[1]) * UNITS[rel[2]!]!);
  if (v === 'today') return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const t = v.length <= MAX_LENGTH && /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) {
    throw new SluiceError(
      'AUDIT_QUERY_INVALID',
      `${option} ${JSON.stringify(value.slice(0, MAX_LENGTH))}: expected a duration such as 15m, 1h, 7d, "today" or an ISO 8601 time`,
    );
  }
  return new Date(t);
}
