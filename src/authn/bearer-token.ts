/**
 * extractBearerToken: the bearer token of an HTTP request (RFC 6750 §2.1), or why there is
 * none. Only the `Authorization` header is a place for a token:
 *   - a token in the query string (`access_token`, RFC 6750 §2.3) is refused with 400: URLs
 *     end up in logs, proxies and browser history (RFC 6750 §5.3, RFC 9700 §4.3.2);
 *   - two `Authorization` headers are refused with 400 (RFC 9110 §5.3 forbids repeating a
 *     singleton field). Node's `req.headers` silently keeps the first one, so the raw header
 *     list (`req.rawHeaders`) is read instead;
 *   - another scheme than Bearer (compared case-insensitively, RFC 9110 §11.1) or an empty
 *     token counts as no token; a value that is not `b64token` syntax is an invalid token.
 * The token never appears in an error.
 */
import { authnError, fail, ok, type AuthnError, type Result } from './authn-error.ts';

/** RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The query parameter of RFC 6750 §2.3. */
const QUERY_TOKEN_PARAM = 'access_token';

/** Schemes named in the log detail; anything else may be a bare token and is not repeated. */
const KNOWN_SCHEMES = new Set(['basic', 'digest', 'negotiate', 'ntlm', 'dpop', 'token', 'mac', 'hoba']);

/**
 * The bearer token of a request.
 * @param rawHeaders Node's `req.rawHeaders`: names and values alternating, duplicates kept.
 * @param url The request target (`req.url`), path and query.
 */
export function extractBearerToken(rawHeaders: readonly string[], url: string): Result<string, AuthnError> {
  const query = url.indexOf('?');
  if (query !== -1) {
    const params = new URLSearchParams(url.slice(query + 1).split('#', 1)[0]);
    if (params.has(QUERY_TOKEN_PARAM))
      return fail(
        authnError('AUTHN_BAD_REQUEST', 'a token in the query string is not accepted; send it in the Authorization header', { queryParameter: QUERY_TOKEN_PARAM }),
      );
  }

  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === 'authorization') values.push(rawHeaders[i + 1] ?? '');
  }
  if (values.length > 1)
    return fail(authnError('AUTHN_BAD_REQUEST', 'more than one Authorization header', { authorizationHeaders: values.length }));
  const value = values[0]?.trim();
  if (value === undefined || value === '') return fail(authnError('AUTHN_MISSING', 'no bearer token'));

  const space = value.search(/[ \t]/);
  const scheme = space === -1 ? value : value.slice(0, space);
  if (scheme.toLowerCase() !== 'bearer') return fail(authnError('AUTHN_MISSING', 'no bearer token', { scheme: KNOWN_SCHEMES.has(scheme.toLowerCase()) ? scheme : '(other)' }));
  const token = space === -1 ? '' : value.slice(space).trim();
  if (token === '') return fail(authnError('AUTHN_MISSING', 'no bearer token', { scheme: 'Bearer', empty: true }));
  if (!B64TOKEN.test(token)) return fail(authnError('AUTHN_INVALID', 'malformed bearer token', { tokenLength: token.length }));
  return ok(token);
}
