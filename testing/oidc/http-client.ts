/**
 * HTTP for the relying-party side: a `fetch` that trusts the identity provider's CA (the
 * process-wide trust store does not know the dev CA) through an undici dispatcher, shaped as
 * openid-client's `customFetch`. Close it when done so no keep-alive socket holds the process.
 */
import { Agent, fetch as undiciFetch } from 'undici';

export type TrustedFetch = ((url: string, init?: RequestInit) => Promise<Response>) & { close(): Promise<void> };

/** A fetch that trusts `caCert` (PEM) in addition to nothing else; system CAs when omitted. */
export function createTrustedFetch(caCert?: string): TrustedFetch {
  const dispatcher = new Agent({ connect: caCert ? { ca: caCert } : {}, keepAliveTimeout: 1_000 });
  const fetchFn = ((url: string, init?: RequestInit) =>
    undiciFetch(url, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher }) as unknown as Promise<Response>) as TrustedFetch;
  fetchFn.close = () => dispatcher.close();
  return fetchFn;
}
