/**
 * createTokenVerifier: verifies bearer tokens as JWTs (RFC 7519) of the configured OpenID
 * Connect issuers and turns them into a Principal, following RFC 8725 (JWT BCP) and RFC 9068
 * (JWT access tokens). For each token:
 *   1. Decode header and claims without trusting them; pick the issuer whose URL equals the
 *      `iss` claim exactly. An unknown issuer is refused before any network request.
 *   2. The header `alg` must be in that issuer's allowlist (RFC 8725 §3.1; `none` and `HS*`
 *      can never be configured, so a token "signed" with the public key as HMAC secret fails).
 *   3. Explicit typing (RFC 8725 §3.11, RFC 9068 §2.1): `typ: at+jwt` is an access token; any
 *      other JWT (an OIDC ID token) is accepted only with `acceptIdTokens`.
 *   4. The signature is checked with that issuer's keys only: its JWKS (RFC 7517), found by
 *      OpenID Connect Discovery 1.0 or configured, fetched with jose's remote JWKS (cached for
 *      `jwksCacheMaxAgeSeconds`, refreshed for an unknown `kid` at most once per
 *      `jwksCooldownSeconds`). Header parameters `jwk`, `jku`, `x5u`, `x5c` are never used to
 *      find a key (RFC 8725 §3.10): keys come from the configured issuer, nowhere else.
 *   5. `iss` exact, `aud` one of `audiences` (RFC 7519 §4.1.3), `exp` required and `nbf`
 *      honoured with `clockSkewSeconds` of tolerance (§4.1.4, §4.1.5), `sub` required.
 *   6. Username, groups and kind from the claims (./principal-from-claims.ts).
 * When the discovery document or the JWKS cannot be fetched the answer is
 * AUTHN_ISSUER_UNAVAILABLE: fail closed, never allow. For `retryAfterFailureSeconds` after a
 * failure the issuer is not contacted: tokens are checked against keys still cached within
 * `jwksCacheMaxAgeSeconds` (so a flood of unknown `kid`s cannot lock everyone out), and refused
 * when there are none. Errors carry a short public message and a private detail; neither
 * contains the token.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JWSHeaderParameters,
  type FlattenedJWSInput,
  type JWTPayload,
  type ProtectedHeaderParameters,
  type RemoteJWKSet,
} from 'jose';
import { SluiceError } from '../core/errors.ts';
import { authnError, fail, ok, type AuthnError, type Result } from './authn-error.ts';
import { describeError, discoverIssuer } from './discover-issuer.ts';
import { IssuersSchema, type IssuerConfig, type IssuerConfigInput } from './issuer-config.ts';
import { principalFromClaims, type TokenType, type VerifiedPrincipal } from './principal-from-claims.ts';
import { createTrustedFetch, type ClosableFetch, type FetchLike } from './trusted-fetch.ts';

export interface TokenVerifierOptions {
  /** HTTP client for discovery and JWKS of every issuer (tests); default: one per issuer, trusting its `caFile`. */
  fetch?: FetchLike;
  /** The clock for `exp`/`nbf` and the failure back-off; default the system clock. */
  now?: () => Date;
}

export interface VerifyOptions {
  /**
   * The `aud` values to accept instead of each issuer's `audiences`: a resource server of its
   * own, such as the MCP endpoint, accepts only tokens issued for it (RFC 8707, MCP
   * authorization: no token passthrough).
   */
  audiences?: readonly string[];
}

export interface TokenVerifier {
  /** Verify a bearer token; never throws, never resolves to a principal without a valid signature. */
  verify(token: string, opts?: VerifyOptions): Promise<Result<VerifiedPrincipal, AuthnError>>;
  /** The configured issuer URLs. */
  readonly issuers: readonly string[];
  /** Release HTTP connections. */
  close(): Promise<void>;
}

/** How long a verified token is remembered at most (it is also forgotten when it expires). */
export const VERIFIED_CACHE_MS = 5 * 60 * 1000;
/** How many verified tokens are remembered (oldest forgotten first). */
const VERIFIED_CACHE_MAX = 10_000;

/** Longer bearer tokens are refused unparsed (kube-apiserver and most proxies cap headers near this). */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/** Thrown from the key resolver when the keys could not be fetched (not when a key is unknown). */
class KeysUnavailable extends Error {}

/** jose errors of the key lookup that say "this token's key is not there", not "the issuer is down". */
function isKeyMismatch(err: unknown): boolean {
  return (
    err instanceof joseErrors.JWKSNoMatchingKey ||
    err instanceof joseErrors.JWKSMultipleMatchingKeys ||
    err instanceof joseErrors.JOSEAlgNotAllowed ||
    err instanceof joseErrors.JWSInvalid ||
    err instanceof joseErrors.JOSENotSupported ||
    err instanceof joseErrors.JWKInvalid
  );
}

/** Cut an attacker-controlled value down for the log. */
function clip(value: unknown, max = 128): string {
  return (typeof value === 'string' ? value : JSON.stringify(value) ?? String(value)).slice(0, max);
}

/** The keys of one issuer: discovery once, then jose's remote JWKS; a back-off after failures. */
class IssuerKeys {
  private jwks: RemoteJWKSet | undefined;
  private pending: Promise<Result<RemoteJWKSet, AuthnError>> | undefined;
  private failedUntil = 0;
  private lastFailure: AuthnError | undefined;

  constructor(
    readonly cfg: IssuerConfig,
    private readonly fetchFn: FetchLike,
    private readonly now: () => Date,
  ) {}

  /** Refused without contacting the issuer, because it failed a moment ago. */
  backingOff(): AuthnError | undefined {
    if (this.now().getTime() >= this.failedUntil) return undefined;
    return authnError('AUTHN_ISSUER_UNAVAILABLE', 'the identity provider is unavailable', {
      issuer: this.cfg.issuer,
      step: 'back-off',
      why: 'a recent discovery or JWKS request failed',
      retryAt: new Date(this.failedUntil).toISOString(),
      lastFailure: this.lastFailure?.detail,
    });
  }

  markFailure(error: AuthnError): void {
    this.lastFailure = error;
    this.failedUntil = this.now().getTime() + this.cfg.retryAfterFailureSeconds * 1000;
  }

  /** During a back-off: the keys fetched before, while still within `jwksCacheMaxAgeSeconds`; no network. */
  cachedKeys(): ReturnType<typeof createLocalJWKSet> | undefined {
    const jwks = this.jwks?.fresh ? this.jwks.jwks() : undefined;
    return jwks ? createLocalJWKSet(jwks) : undefined;
  }

  async keySet(): Promise<Result<RemoteJWKSet, AuthnError>> {
    if (this.jwks) return ok(this.jwks);
    const backoff = this.backingOff();
    if (backoff) return fail(backoff);
    this.pending ??= this.load().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async load(): Promise<Result<RemoteJWKSet, AuthnError>> {
    let jwksUri = this.cfg.jwksUri;
    if (this.cfg.discovery) {
      const meta = await discoverIssuer(this.cfg.issuer, { fetch: this.fetchFn, timeoutMs: this.cfg.timeoutSeconds * 1000 });
      if (!meta.ok) {
        this.markFailure(meta.error);
        return meta;
      }
      jwksUri ??= meta.value.jwksUri;
    }
    if (jwksUri === undefined) return fail(authnError('AUTHN_ISSUER_UNAVAILABLE', 'the identity provider is unavailable', { issuer: this.cfg.issuer, why: 'no jwks_uri' }));
    const fetchFn = this.fetchFn;
    this.jwks = createRemoteJWKSet(new URL(jwksUri), {
      timeoutDuration: this.cfg.timeoutSeconds * 1000,
      cooldownDuration: this.cfg.jwksCooldownSeconds * 1000,
      cacheMaxAge: this.cfg.jwksCacheMaxAgeSeconds * 1000,
      [customFetch]: (url, init) => fetchFn(url, init as RequestInit),
    });
    return ok(this.jwks);
  }
}

/** The public message and detail for a jose verification error. */
function explain(err: unknown): { message: string; detail: Record<string, unknown> } {
  const jose = err instanceof joseErrors.JOSEError ? { joseCode: err.code, joseMessage: err.message } : { error: describeError(err) };
  if (err instanceof joseErrors.JWTExpired) return { message: 'token has expired', detail: { ...jose, claim: 'exp' } };
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    const claim = err.claim;
    const message =
      err.reason === 'missing'
        ? `token has no "${claim}" claim`
        : claim === 'nbf'
          ? 'token is not yet valid'
          : claim === 'aud'
            ? 'token audience is not accepted'
            : claim === 'iss'
              ? 'token issuer is not accepted'
              : `token "${claim}" claim is invalid`;
    return { message, detail: { ...jose, claim, reason: err.reason } };
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return { message: 'token signature is invalid', detail: jose };
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return { message: 'token algorithm is not accepted', detail: jose };
  if (err instanceof joseErrors.JWKSNoMatchingKey) return { message: 'token signing key is not known to the issuer', detail: jose };
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return { message: 'token is malformed', detail: jose };
  return { message: 'token could not be verified', detail: jose };
}

/** `at+jwt` (also as `application/at+jwt`, media types are case-insensitive: RFC 7515 §4.1.9, RFC 9068 §2.1). */
function tokenTypeOf(header: ProtectedHeaderParameters): TokenType {
  const typ = typeof header.typ === 'string' ? header.typ.toLowerCase().replace(/^application\//, '') : '';
  return typ === 'at+jwt' ? 'access_token' : 'id_token';
}

/** Create a verifier for the given issuers (validated against IssuersSchema; throws CONFIG_INVALID). */
export function createTokenVerifier(issuers: readonly IssuerConfigInput[], opts: TokenVerifierOptions = {}): TokenVerifier {
  const parsed = IssuersSchema.safeParse(issuers);
  if (!parsed.success)
    throw new SluiceError('CONFIG_INVALID', `invalid issuer configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const now = opts.now ?? (() => new Date());
  const owned: ClosableFetch[] = [];
  const byIssuer = new Map<string, IssuerKeys>();
  for (const cfg of parsed.data) {
    let fetchFn = opts.fetch;
    if (!fetchFn) {
      let ca: string | undefined;
      if (cfg.caFile !== undefined) {
        try {
          ca = readFileSync(cfg.caFile, 'utf8');
        } catch (err) {
          throw new SluiceError('CONFIG_INVALID', `issuer ${cfg.issuer}: caFile ${cfg.caFile} cannot be read`, { cause: describeError(err) });
        }
      }
      const trusted = createTrustedFetch(ca);
      owned.push(trusted);
      fetchFn = trusted;
    }
    byIssuer.set(cfg.issuer, new IssuerKeys(cfg, fetchFn, now));
  }

  async function verify(token: string, opts: VerifyOptions): Promise<Result<VerifiedPrincipal, AuthnError>> {
    if (typeof token !== 'string' || token === '') return fail(authnError('AUTHN_MISSING', 'no bearer token'));
    if (token.length > MAX_TOKEN_LENGTH) return fail(authnError('AUTHN_INVALID', 'token is too large', { tokenLength: token.length }));

    let header: ProtectedHeaderParameters;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch (err) {
      return fail(authnError('AUTHN_INVALID', 'token is not a JWT', { ...explain(err).detail, tokenLength: token.length }));
    }
    const iss = unverified.iss;
    const keys = typeof iss === 'string' ? byIssuer.get(iss) : undefined;
    if (!keys) return fail(authnError('AUTHN_INVALID', 'token issuer is not trusted', { unverifiedIssuer: clip(iss, 256) }));
    const cfg = keys.cfg;
    const base = { issuer: cfg.issuer, alg: clip(header.alg, 32), ...(header.kid !== undefined ? { kid: clip(header.kid) } : {}) };

    if (typeof header.alg !== 'string' || !(cfg.algorithms as readonly string[]).includes(header.alg))
      return fail(authnError('AUTHN_INVALID', 'token algorithm is not accepted', { ...base, allowed: cfg.algorithms }));
    const tokenType = tokenTypeOf(header);
    if (tokenType === 'id_token' && !cfg.acceptIdTokens)
      return fail(authnError('AUTHN_INVALID', 'token type is not accepted; send an access token (typ at+jwt)', { ...base, typ: clip(header.typ, 64) }));

    // After a failed fetch, tokens are checked against the keys still cached (a token with an
    // unknown kid cannot make everyone wait); without fresh cached keys they are refused.
    const backoff = keys.backingOff();
    let remote: RemoteJWKSet | ReturnType<typeof createLocalJWKSet>;
    if (backoff) {
      const cached = keys.cachedKeys();
      if (!cached) return fail(backoff);
      remote = cached;
    } else {
      const jwks = await keys.keySet();
      if (!jwks.ok) return jwks;
      remote = jwks.value;
    }
    // Only the configured issuer's JWKS is consulted: jose never reads jwk/jku/x5u/x5c for a key
    // when given a key resolver, and this resolver passes on nothing but alg and kid.
    const resolveKey = async (protectedHeader: JWSHeaderParameters, input: FlattenedJWSInput) => {
      try {
        return await remote({ alg: protectedHeader.alg, ...(protectedHeader.kid !== undefined ? { kid: protectedHeader.kid } : {}) }, input);
      } catch (err) {
        if (isKeyMismatch(err)) throw err;
        throw new KeysUnavailable('JWKS unavailable', { cause: err });
      }
    };

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, resolveKey, {
        issuer: cfg.issuer,
        audience: opts.audiences ? [...opts.audiences] : cfg.audiences,
        algorithms: cfg.algorithms,
        clockTolerance: cfg.clockSkewSeconds,
        currentDate: now(),
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (err) {
      if (err instanceof KeysUnavailable) {
        const error = authnError('AUTHN_ISSUER_UNAVAILABLE', 'the identity provider is unavailable', {
          ...base,
          step: 'jwks',
          why: 'fetching the signing keys failed',
          error: describeError(err.cause),
        });
        keys.markFailure(error);
        return fail(error);
      }
      const { message, detail } = explain(err);
      return fail(authnError('AUTHN_INVALID', message, { ...base, ...detail }));
    }
    return principalFromClaims(payload, cfg, tokenType);
  }

  // Verified tokens are remembered by their SHA-256 until they expire (with the issuer's skew) or
  // for VERIFIED_CACHE_MS at most, so a client's stream of requests costs one signature check.
  // Only successes are cached; the token itself is not kept.
  const verified = new Map<string, { principal: VerifiedPrincipal; until: number }>();
  const cached = (key: string): VerifiedPrincipal | undefined => {
    const hit = verified.get(key);
    if (!hit) return undefined;
    if (now().getTime() >= hit.until) {
      verified.delete(key);
      return undefined;
    }
    return hit.principal;
  };
  const remember = (key: string, principal: VerifiedPrincipal): void => {
    const cfg = byIssuer.get(principal.issuer)?.cfg;
    const until = Math.min(principal.expiresAt.getTime() + (cfg?.clockSkewSeconds ?? 0) * 1000, now().getTime() + VERIFIED_CACHE_MS);
    if (verified.size >= VERIFIED_CACHE_MAX) verified.delete(verified.keys().next().value as string);
    verified.set(key, { principal, until });
  };

  return {
    issuers: [...byIssuer.keys()],
    async verify(token, opts = {}) {
      try {
        // The accepted audiences are part of the key: a token verified for one resource is not thereby good for another.
        const key =
          typeof token === 'string' && token.length <= MAX_TOKEN_LENGTH
            ? createHash('sha256').update(token).update(`\0${JSON.stringify(opts.audiences ?? null)}`).digest('base64url')
            : undefined;
        const hit = key ? cached(key) : undefined;
        if (hit) return ok(hit);
        const result = await verify(token, opts);
        if (result.ok && key) remember(key, result.value);
        return result;
      } catch (err) {
        // Fail closed on anything unforeseen.
        return fail(authnError('AUTHN_INVALID', 'token could not be verified', { error: describeError(err) }));
      }
    },
    async close() {
      await Promise.all(owned.map((f) => f.close()));
    },
  };
}
