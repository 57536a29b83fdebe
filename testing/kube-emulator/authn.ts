/**
 * Bearer-token authentication as kube-apiserver does it with anonymous auth disabled: a union of
 *  - the static token file (--token-auth-file): exact match → fixed user.Info;
 *  - the OIDC authenticator (--oidc-issuer-url, --oidc-client-id, --oidc-username-claim,
 *    --oidc-username-prefix, --oidc-groups-claim, --oidc-groups-prefix, --oidc-ca-file,
 *    --oidc-signing-algs; k8s.io/apiserver/plugin/pkg/authenticator/token/oidc/oidc.go): the
 *    issuer's discovery document names the JWKS, the ID token's signature, `iss`, `aud`, `exp`
 *    and `nbf` are verified with jose.
 * Every authenticated user gets the group system:authenticated (the AuthenticatedGroupAdder).
 */
import { request as httpsRequest } from 'node:https';
import { createRemoteJWKSet, customFetch, jwtVerify, type JWTPayload } from 'jose';
import type { UserInfo } from './types.ts';

export interface OidcOptions {
  /** --oidc-issuer-url: must be https and equal the token's `iss`. */
  issuer: string;
  /** --oidc-client-id: must be in the token's `aud`. */
  audience: string;
  /** --oidc-username-claim (default "sub"). */
  usernameClaim?: string;
  /** --oidc-username-prefix. Default: "<issuer>#" unless the claim is "email"; "-" disables prefixing. */
  usernamePrefix?: string;
  /** --oidc-groups-claim: a string or an array of strings in the token. */
  groupsClaim?: string;
  /** --oidc-groups-prefix. */
  groupsPrefix?: string;
  /** --oidc-ca-file contents (PEM) used to reach the issuer. */
  caCert?: string;
  /** --oidc-signing-algs (default ["RS256"], like kube-apiserver). */
  signingAlgs?: string[];
}

export const AUTHENTICATED_GROUP = 'system:authenticated';

function withAuthenticated(u: UserInfo): UserInfo {
  return u.groups.includes(AUTHENTICATED_GROUP) ? u : { ...u, groups: [...u.groups, AUTHENTICATED_GROUP] };
}

type FetchLike = (url: string, init?: { headers?: Headers | Record<string, string>; signal?: AbortSignal }) => Promise<Response>;

/** A fetch over node:https trusting the given CA (jose's customFetch hook). */
export function httpsFetch(ca?: string): FetchLike {
  return (url, init) =>
    new Promise<Response>((resolve, reject) => {
      const headers: Record<string, string> = {};
      if (init?.headers instanceof Headers) init.headers.forEach((v, k) => (headers[k] = v));
      else Object.assign(headers, init?.headers);
      const req = httpsRequest(url, { method: 'GET', headers, ca, signal: init?.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
          resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500, headers }));
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
}

function isJwtShaped(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

class OidcAuthenticator {
  private jwks?: ReturnType<typeof createRemoteJWKSet>;
  private loading?: Promise<ReturnType<typeof createRemoteJWKSet>>;
  private readonly fetcher: FetchLike;

  constructor(private readonly o: OidcOptions) {
    this.fetcher = httpsFetch(o.caCert);
  }

  private async keySet(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (this.jwks) return this.jwks;
    this.loading ??= (async () => {
      const url = `${this.o.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      const res = await this.fetcher(url, { headers: { accept: 'application/json' } });
      if (res.status !== 200) throw new Error(`oidc: discovery ${url} answered ${res.status}`);
      const doc = (await res.json()) as { issuer?: string; jwks_uri?: string };
      if (doc.issuer !== this.o.issuer) throw new Error(`oidc: issuer did not match the issuer returned by provider, expected "${this.o.issuer}" got "${doc.issuer}"`);
      if (!doc.jwks_uri) throw new Error('oidc: discovery document has no jwks_uri');
      const jwks = createRemoteJWKSet(new URL(doc.jwks_uri), { [customFetch]: this.fetcher });
      this.jwks = jwks;
      return jwks;
    })();
    try {
      return await this.loading;
    } catch (e) {
      this.loading = undefined; // retry on the next request, like the real authenticator's background sync
      throw e;
    }
  }

  async authenticate(token: string): Promise<UserInfo | undefined> {
    if (!isJwtShaped(token)) return undefined;
    const jwks = await this.keySet();
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, jwks, {
        issuer: this.o.issuer,
        audience: this.o.audience,
        algorithms: this.o.signingAlgs ?? ['RS256'],
      }));
    } catch {
      return undefined;
    }
    const claimName = this.o.usernameClaim ?? 'sub';
    const raw = claims[claimName];
    if (typeof raw !== 'string' || raw === '') return undefined;
    if (claimName === 'email' && 'email_verified' in claims && claims.email_verified !== true) return undefined;
    let prefix = this.o.usernamePrefix;
    if (prefix === undefined) prefix = claimName === 'email' ? '' : `${this.o.issuer}#`;
    if (prefix === '-') prefix = '';
    const groups: string[] = [];
    if (this.o.groupsClaim && claims[this.o.groupsClaim] !== undefined) {
      const g = claims[this.o.groupsClaim];
      const list = typeof g === 'string' ? [g] : Array.isArray(g) && g.every((x) => typeof x === 'string') ? (g as string[]) : undefined;
      if (!list) return undefined; // a malformed groups claim fails authentication
      groups.push(...list.map((x) => (this.o.groupsPrefix ?? '') + x));
    }
    return withAuthenticated({ username: prefix + raw, groups });
  }
}

export class Authenticator {
  private readonly tokens = new Map<string, UserInfo>();
  private readonly oidc?: OidcAuthenticator;

  constructor(opts: { tokens?: Record<string, UserInfo>; oidc?: OidcOptions }) {
    for (const [t, u] of Object.entries(opts.tokens ?? {})) this.addToken(t, u);
    if (opts.oidc) this.oidc = new OidcAuthenticator(opts.oidc);
  }

  addToken(token: string, user: UserInfo): void {
    this.tokens.set(token, withAuthenticated({ ...user, groups: [...user.groups] }));
  }

  /** The user for a bearer token, or undefined (→ 401). OIDC errors (issuer unreachable) also fail closed. */
  async authenticate(token: string): Promise<UserInfo | undefined> {
    const u = this.tokens.get(token);
    if (u) return structuredClone(u);
    if (!this.oidc) return undefined;
    try {
      return await this.oidc.authenticate(token);
    } catch {
      return undefined;
    }
  }
}

/** The bearer token of an Authorization header ("Bearer <token>", scheme case-insensitive). */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
