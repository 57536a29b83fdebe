/**
 * The HTTP client for an issuer's discovery document and JWKS: fetch over an undici Agent that
 * trusts the issuer's own CA (`caFile`) instead of the system store when one is configured,
 * without redirects followed by default (jose asks for `redirect: 'manual'`), with short
 * keep-alive. Close it with the verifier.
 */
import { Agent, fetch as undiciFetch } from 'undici';

/** The fetch shape the verifier uses (and that tests may inject). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export type ClosableFetch = FetchLike & { close(): Promise<void> };

/** A fetch trusting `caPem` (PEM, one or more certificates) only, or the system CAs when omitted. */
export function createTrustedFetch(caPem?: string): ClosableFetch {
  const dispatcher = new Agent({ connect: caPem ? { ca: caPem } : {}, keepAliveTimeout: 4_000 });
  const fetchFn = ((url: string, init: RequestInit) =>
    undiciFetch(url, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher }) as unknown as Promise<Response>) as ClosableFetch;
  fetchFn.close = () => dispatcher.close();
  return fetchFn;
}
