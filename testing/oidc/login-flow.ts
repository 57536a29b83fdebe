/**
 * A person's login without a browser, through the real protocol: openid-client (a certified
 * relying party) builds an authorization request with PKCE (RFC 7636) and a resource indicator
 * (RFC 8707); a scripted browser follows the provider's redirects with its cookies, submits
 * the login form that the identity provider renders for people, and stops at the redirect to
 * the loopback redirect URI; openid-client then redeems the code at the token endpoint and
 * validates the ID token. Nothing here signs a token.
 */
import * as oidc from 'openid-client';
import { resourceForAudience } from './audience.ts';
import { DEFAULT_PUBLIC_CLIENT_ID, LOOPBACK_REDIRECT_URI, PERSON_SCOPES, type TokenSet } from './constants.ts';
import { CookieJar } from './cookie-jar.ts';
import { createTrustedFetch } from './http-client.ts';
import { SluiceError } from '../../src/core/errors.ts';

export interface PasswordLoginOptions {
  issuer: string;
  /** PEM CA that signed the identity provider's certificate. */
  caCert?: string;
  username: string;
  password: string;
  /** Public client; default `sluice-cli`. */
  clientId?: string;
  /** Audience of the access token; the provider's default when omitted. */
  audience?: string;
  /** Ask for `offline_access` (a refresh token); this makes the provider show its consent step. */
  offlineAccess?: boolean;
  /** Overall time limit in milliseconds (default 15000). */
  timeoutMs?: number;
}

const MAX_HOPS = 20;

function isRedirectTarget(url: URL, redirectUri: URL): boolean {
  return url.protocol === redirectUri.protocol && url.hostname === redirectUri.hostname && url.pathname === redirectUri.pathname;
}

/**
 * Walk from the authorization URL to the redirect back to the client, logging in on the way.
 * Returns the callback URL (with `code` and `state`, or an `error`).
 */
export async function signIn(fetchFn: (url: string, init?: RequestInit) => Promise<Response>, start: URL, redirectUri: URL, username: string, password: string, signal: AbortSignal): Promise<URL> {
  const jar = new CookieJar();
  let url = start;
  let method: 'GET' | 'POST' = 'GET';
  let body: string | undefined;
  let submitted = false;
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    if (isRedirectTarget(url, redirectUri)) return url;
    const headers: Record<string, string> = { accept: 'text/html' };
    const cookie = jar.header(url);
    if (cookie) headers.cookie = cookie;
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetchFn(url.href, { method, headers, body, redirect: 'manual', signal });
    jar.store(url, res.headers.getSetCookie());
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.arrayBuffer();
      url = new URL(location, url);
      method = 'GET';
      body = undefined;
      continue;
    }
    const html = await res.text();
    if (res.status === 401 && submitted) {
      throw new SluiceError('TOKEN_FLOW_FAILED', `sign-in as "${username}" was refused by ${url.origin}: unknown user or wrong password`);
    }
    const action = /<form method="post" action="([^"]+\/login)"/.exec(html)?.[1];
    if (res.status === 200 && action && !submitted) {
      url = new URL(action, url);
      method = 'POST';
      body = new URLSearchParams({ login: username, password }).toString();
      submitted = true;
      continue;
    }
    const text = html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
    throw new SluiceError('TOKEN_FLOW_FAILED', `unexpected ${res.status} from ${url.pathname} during sign-in: ${text}`);
  }
  throw new SluiceError('TOKEN_FLOW_FAILED', `sign-in did not finish within ${MAX_HOPS} redirects`);
}

/** Log a person in with the authorization-code + PKCE flow and return the tokens. */
export async function loginWithPassword(opts: PasswordLoginOptions): Promise<TokenSet> {
  const fetchFn = createTrustedFetch(opts.caCert);
  const signal = AbortSignal.timeout(opts.timeoutMs ?? 15_000);
  const clientId = opts.clientId ?? DEFAULT_PUBLIC_CLIENT_ID;
  try {
    const config = await oidc.discovery(new URL(opts.issuer), clientId, undefined, oidc.None(), {
      [oidc.customFetch]: (url, init) => fetchFn(url, { ...init, signal } as RequestInit),
    });
    const redirectUri = new URL(LOOPBACK_REDIRECT_URI);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const resource = opts.audience ? resourceForAudience(opts.audience) : undefined;
    const scopes = PERSON_SCOPES.filter((s) => opts.offlineAccess || s !== 'offline_access');
    const authUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri.href,
      scope: scopes.join(' '),
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      ...(resource ? { resource } : {}),
      ...(opts.offlineAccess ? { prompt: 'consent' } : {}),
    });
    const callback = await signIn(fetchFn, authUrl, redirectUri, opts.username, opts.password, signal);
    const tokens = await oidc.authorizationCodeGrant(
      config,
      callback,
      { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: true },
      resource ? { resource } : undefined,
    );
    return {
      accessToken: tokens.access_token,
      ...(tokens.id_token ? { idToken: tokens.id_token } : {}),
      ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
      expiresAt: new Date(Date.now() + (tokens.expiresIn() ?? 0) * 1000),
      ...(tokens.scope ? { scope: tokens.scope } : {}),
    };
  } finally {
    await fetchFn.close();
  }
}
