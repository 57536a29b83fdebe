/**
 * discoverIssuer: an issuer's metadata through OpenID Connect Discovery 1.0 §4: GET
 * `<issuer>/.well-known/openid-configuration` (a trailing `/` of the issuer removed first,
 * §4.1), which must answer 200 with a JSON object whose `issuer` equals the configured issuer
 * exactly (§4.3: "MUST be identical", which stops one provider from impersonating another)
 * and whose `jwks_uri` is an https URL (§3, RFC 8414 §2). Redirects are not followed.
 * Any failure is AUTHN_ISSUER_UNAVAILABLE: without the keys no token can be verified, and the
 * verifier fails closed.
 */
import { authnError, fail, ok, type AuthnError, type Result } from './authn-error.ts';
import type { FetchLike } from './trusted-fetch.ts';

export interface IssuerMetadata {
  issuer: string;
  jwksUri: string;
  /** `id_token_signing_alg_values_supported`, when published (informational). */
  signingAlgorithms?: string[];
}

/** Largest discovery document accepted, in bytes. */
const MAX_DOCUMENT_BYTES = 512 * 1024;

/** Fetch and check an issuer's discovery document. */
export async function discoverIssuer(issuer: string, opts: { fetch: FetchLike; timeoutMs: number }): Promise<Result<IssuerMetadata, AuthnError>> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const unavailable = (why: string, extra: Record<string, unknown> = {}) =>
    fail<IssuerMetadata>(authnError('AUTHN_ISSUER_UNAVAILABLE', 'the identity provider is unavailable', { issuer, step: 'discovery', url, why, ...extra }));

  let body: string;
  try {
    const res = await opts.fetch(url, {
      method: 'GET',
      redirect: 'manual',
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      return unavailable(`answered HTTP ${res.status}`);
    }
    const length = Number(res.headers.get('content-length') ?? '0');
    if (length > MAX_DOCUMENT_BYTES) {
      await res.body?.cancel().catch(() => undefined);
      return unavailable('document too large');
    }
    body = await res.text();
  } catch (err) {
    return unavailable('request failed', { error: describeError(err) });
  }
  if (body.length > MAX_DOCUMENT_BYTES) return unavailable('document too large');

  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return unavailable('not JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return unavailable('not a JSON object');
  const meta = doc as Record<string, unknown>;
  if (meta.issuer !== issuer)
    return unavailable('issuer in the discovery document differs from the configured issuer', {
      discoveredIssuer: typeof meta.issuer === 'string' ? meta.issuer.slice(0, 256) : typeof meta.issuer,
    });
  const jwksUri = meta.jwks_uri;
  if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri) || new URL(jwksUri).protocol !== 'https:')
    return unavailable('jwks_uri missing or not an https URL');
  const algs = meta.id_token_signing_alg_values_supported;
  return ok({
    issuer,
    jwksUri,
    ...(Array.isArray(algs) && algs.every((a) => typeof a === 'string') ? { signingAlgorithms: algs as string[] } : {}),
  });
}

/** A short description of a network error (undici puts the reason in `cause`). */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err).slice(0, 200);
  const cause = err.cause instanceof Error ? `: ${(err.cause as Error & { code?: string }).code ?? err.cause.message}` : '';
  return `${err.name}: ${err.message}${cause}`.slice(0, 300);
}
