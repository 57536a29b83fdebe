/**
 * A machine identity's token through the OAuth 2.0 client-credentials grant (RFC 6749 §4.4),
 * authenticating with client_secret_basic, asking for a JWT access token for an audience via a
 * resource indicator (RFC 8707). openid-client is the client; the provider does the issuing.
 */
import * as oidc from 'openid-client';
import { resourceForAudience } from './audience.ts';
import type { TokenSet } from './constants.ts';
import { createTrustedFetch } from './http-client.ts';
import { SluiceError } from '../../src/core/errors.ts';

export interface ClientCredentialsOptions {
  issuer: string;
  /** PEM CA that signed the identity provider's certificate. */
  caCert?: string;
  clientId: string;
  clientSecret: string;
  /** Audience of the access token; the provider's default when omitted. */
  audience?: string;
  /** Time limit in milliseconds (default 15000). */
  timeoutMs?: number;
}

/** The OAuth error code and description when the server sent one. */
function describe(err: unknown): string {
  if (err instanceof oidc.WWWAuthenticateChallengeError) {
    const challenge = err.cause[0];
    const code = challenge?.parameters.error ?? 'invalid_client';
    return `${code}${challenge?.parameters.error_description ? ` (${challenge.parameters.error_description})` : ''}`;
  }
  if (err instanceof oidc.ResponseBodyError) return `${err.error}${err.error_description ? ` (${err.error_description})` : ''}`;
  return err instanceof Error ? err.message : String(err);
}

/** Obtain an access token with the client-credentials grant. Rejects on a wrong secret. */
export async function fetchClientCredentialsToken(opts: ClientCredentialsOptions): Promise<TokenSet> {
  const fetchFn = createTrustedFetch(opts.caCert);
  const signal = AbortSignal.timeout(opts.timeoutMs ?? 15_000);
  try {
    const config = await oidc.discovery(new URL(opts.issuer), opts.clientId, undefined, oidc.ClientSecretBasic(opts.clientSecret), {
      [oidc.customFetch]: (url, init) => fetchFn(url, { ...init, signal } as RequestInit),
    });
    const params: Record<string, string> = opts.audience ? { resource: resourceForAudience(opts.audience) } : {};
    const tokens = await oidc.clientCredentialsGrant(config, params).catch((err: unknown) => {
      throw new SluiceError('TOKEN_FLOW_FAILED', `client-credentials grant for "${opts.clientId}" failed: ${describe(err)}`, { cause: String(err) });
    });
    return {
      accessToken: tokens.access_token,
      expiresAt: new Date(Date.now() + (tokens.expiresIn() ?? 0) * 1000),
      ...(tokens.scope ? { scope: tokens.scope } : {}),
    };
  } finally {
    await fetchFn.close();
  }
}
