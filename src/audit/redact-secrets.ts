/**
 * Last line of defence before a record reaches the store: records never carry bearer tokens.
 * The gateway passes only fields without credentials; this removes any `access_token` query
 * parameter, blanks other credential-named parameters, and replaces anything that looks like a JWT (`eyJ….….…`) or a `Bearer <token>` in
 * every string field. Redacting (rather than refusing the record) keeps the request on record.
 */
import type { AuditBegin } from './types.ts';

export const REDACTED = '[redacted]';

/** base64url JOSE header `{"…` followed by payload and signature segments. */
const JWT = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi;

/** Query parameter names whose values are credentials (the name decoded, any case). */
const CREDENTIAL_PARAM = /token|secret|password/i;

/**
 * Drops every `access_token` parameter (any case, even percent-encoded), replaces the value of
 * any other credential-named parameter (`token`, `secret`, `password` in the name) with
 * `[redacted]`, and keeps the rest verbatim.
 */
export function redactQuery(query: string): string {
  const q = query.startsWith('?') ? query.slice(1) : query;
  if (q === '') return '';
  const out: string[] = [];
  for (const part of q.split('&')) {
    const rawName = part.split('=', 1)[0] ?? '';
    let name: string;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' ')).trim().toLowerCase();
    } catch {
      name = rawName.toLowerCase();
    }
    if (name === 'access_token') continue;
    out.push(CREDENTIAL_PARAM.test(name) && part.includes('=') ? `${rawName}=${REDACTED}` : part);
  }
  return out.join('&');
}

export function redactString(s: string): string {
  return s.replace(JWT, REDACTED).replace(BEARER, `$1 ${REDACTED}`);
}

/** A copy of the entry fit for the store, and the dotted paths of the fields that were changed. */
export function redactSecrets<T extends object = AuditBegin>(entry: T): { entry: T; redacted: string[] } {
  const redacted: string[] = [];
  const walk = (v: unknown, path: string): unknown => {
    if (typeof v === 'string') {
      const out = path === 'query' ? redactString(redactQuery(v)) : redactString(v);
      if (out !== v) redacted.push(path);
      return out;
    }
    if (v instanceof Date) return new Date(v.getTime());
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}.${i}`));
    if (v !== null && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = walk(x, path ? `${path}.${k}` : k);
      return o;
    }
    return v;
  };
  return { entry: walk(entry, '') as T, redacted };
}
