/**
 * principalFromClaims: the Principal of a token whose signature and registered claims are
 * already verified. Pure. The username comes from `usernameClaim` (default `sub`, RFC 7519
 * §4.1.2), the groups from `groupsClaim` (a list of strings or one string; absent = none),
 * each with its configured prefix. Nothing the identity provider writes can name a Kubernetes
 * `system:` user or group: a username that would start with `system:` refuses the token, and
 * a group that would is dropped (only reachable with `allowUnprefixedGroups`, the config
 * schema rejects prefixes that could build one). A machine is told from a person by the
 * client-credentials shape of RFC 9068 §2.2 (`sub` equals `client_id`) or configured claims.
 */
import type { JWTPayload } from 'jose';
import type { Principal, PrincipalKind } from '../core/principal.ts';
import { authnError, fail, ok, type AuthnError, type Result } from './authn-error.ts';
import { RESERVED_PREFIX, type IssuerConfig } from './issuer-config.ts';

/** `access_token`: typed `at+jwt` (RFC 9068); `id_token`: any other JWT, accepted only with `acceptIdTokens`. */
export type TokenType = 'access_token' | 'id_token';

/** A Principal proven by a verified token. */
export interface VerifiedPrincipal extends Principal {
  kind: PrincipalKind;
  /** When the token stops being valid (its `exp`); sessions and streams end then. */
  expiresAt: Date;
  tokenType: TokenType;
  /** The OAuth client the token was issued to (`client_id`, else `azp`), when the token says. */
  clientId?: string;
}

/** More groups than this refuses the token (a token is not a directory). */
export const MAX_GROUPS = 1024;

function claimHas(value: unknown, wanted: string): boolean {
  return value === wanted || (Array.isArray(value) && value.includes(wanted));
}

/** Build the principal from verified claims. */
export function principalFromClaims(claims: JWTPayload, cfg: IssuerConfig, tokenType: TokenType): Result<VerifiedPrincipal, AuthnError> {
  const invalid = (message: string, detail: Record<string, unknown> = {}) =>
    fail<VerifiedPrincipal>(authnError('AUTHN_INVALID', message, { issuer: cfg.issuer, ...detail }));

  const sub = claims.sub;
  if (typeof sub !== 'string' || sub === '') return invalid('token has no subject', { claim: 'sub' });
  if (typeof claims.exp !== 'number') return invalid('token has no expiry', { claim: 'exp' });

  for (const [name, wanted] of Object.entries(cfg.requiredClaims)) {
    if (!claimHas(claims[name], wanted)) return invalid('token lacks a required claim', { claim: name });
  }

  const rawName = claims[cfg.usernameClaim];
  if (typeof rawName !== 'string' || rawName === '') return invalid('token has no username claim', { claim: cfg.usernameClaim });
  if (cfg.usernameClaim === 'email' && 'email_verified' in claims && claims.email_verified !== true)
    return invalid('token email is not verified', { claim: 'email_verified' });
  const username = cfg.usernamePrefix + rawName;
  if (username.startsWith(RESERVED_PREFIX)) return invalid('token names a reserved username', { claim: cfg.usernameClaim });

  const rawGroups = claims[cfg.groupsClaim];
  let names: string[];
  if (rawGroups === undefined || rawGroups === null) names = [];
  else if (typeof rawGroups === 'string') names = [rawGroups];
  else if (Array.isArray(rawGroups) && rawGroups.every((g) => typeof g === 'string')) names = rawGroups as string[];
  else return invalid('token groups claim is not a list of strings', { claim: cfg.groupsClaim });
  if (names.length > MAX_GROUPS) return invalid('token has too many groups', { claim: cfg.groupsClaim, count: names.length });
  const groups = [
    ...new Set(names.filter((g) => g !== '').map((g) => cfg.groupsPrefix + g)),
  ].filter((g) => !g.startsWith(RESERVED_PREFIX));

  const clientId = typeof claims.client_id === 'string' ? claims.client_id : typeof claims.azp === 'string' ? claims.azp : undefined;
  const machine =
    (cfg.machines.subjectIsClientId && clientId === sub) ||
    Object.entries(cfg.machines.claims).some(([name, wanted]) => claimHas(claims[name], wanted));

  return ok({
    issuer: cfg.issuer,
    subject: sub,
    username,
    groups,
    kind: machine ? 'machine' : 'person',
    expiresAt: new Date(claims.exp * 1000),
    tokenType,
    ...(clientId !== undefined ? { clientId } : {}),
  });
}
