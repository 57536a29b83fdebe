/**
 * The configuration of one trusted OpenID Connect issuer (and of the list of them), as a zod
 * schema that the main config schema (src/config/schema.ts) embeds under `authentication`.
 * Every option is documented where it is defined; the defaults follow RFC 8725 (JWT BCP):
 * an explicit asymmetric algorithm allowlist (§3.1, never `none`, never `HS*`), issuer and
 * audience validation (§3.8, §3.9), explicit typing (§3.11, RFC 9068 `at+jwt`), and a bounded
 * clock skew for `exp`/`nbf` (RFC 7519 §4.1.4, §4.1.5).
 *
 * Usernames and groups: the username defaults to the `sub` claim (RFC 7519 §4.1.2, the one
 * claim an issuer promises to keep stable and unique; `preferred_username` and `email` can be
 * changed by users at many providers and reassigned), with no prefix: the demo policies name
 * `alice`. Groups get the prefix `oidc:` by default, so that the identity provider can never
 * name a Kubernetes `system:` group; a prefix that could build `system:…` is rejected here,
 * and an empty prefix needs `allowUnprefixedGroups: true` (then `system:` groups from the
 * token are dropped at verification). When several issuers are configured, each needs its own
 * non-empty `usernamePrefix` and `groupsPrefix`, none the beginning of another, so that one
 * issuer can never mint another's identities.
 */
import { z } from 'zod';

/** Asymmetric JWS algorithms (RFC 7518 §3.1, RFC 8037) an issuer may be configured to use. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

/** The default allowlist: what practically every OpenID provider signs with. */
export const DEFAULT_ALGORITHMS: readonly (typeof ASYMMETRIC_ALGORITHMS)[number][] = ['RS256', 'ES256', 'PS256'];

/** The prefix Kubernetes reserves for its own users and groups. */
export const RESERVED_PREFIX = 'system:';

/** True when `prefix + name` can start with `system:` for some name (the prefix is empty, a beginning of `system:`, or starts with it). */
export function prefixCanBuildReserved(prefix: string): boolean {
  return RESERVED_PREFIX.startsWith(prefix) || prefix.startsWith(RESERVED_PREFIX);
}

const claimName = z.string().min(1).max(256);

const httpsUrl = (what: string) =>
  z
    .string()
    .max(2048)
    .superRefine((value, ctx) => {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        ctx.addIssue({ code: 'custom', message: `${what} must be an absolute URL` });
        return;
      }
      if (url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: `${what} must use https` });
      if (url.search || url.hash || value.includes('?') || value.includes('#'))
        ctx.addIssue({ code: 'custom', message: `${what} must have no query and no fragment` });
      if (url.username || url.password) ctx.addIssue({ code: 'custom', message: `${what} must not contain credentials` });
    });

export const MachineDetectionSchema = z
  .object({
    subjectIsClientId: z
      .boolean()
      .default(true)
      .describe(
        'A token whose `sub` equals its `client_id` (or `azp` when it has no `client_id`) is a machine: that is what the client-credentials grant issues (RFC 9068 §2.2).',
      ),
    claims: z
      .record(claimName, z.string())
      .default({})
      .describe(
        'A token carrying any of these claim values is a machine, e.g. `{gty: client-credentials}` (Auth0) or `{idtyp: app}` (Microsoft Entra ID).',
      ),
  })
  .strict()
  .describe('How a machine identity (kind `machine`) is told from a person; everything else is a person.');

export const IssuerConfigSchema = z
  .object({
    issuer: httpsUrl('issuer').describe(
      'Issuer URL, compared character for character with the token\'s `iss` claim and with the `issuer` of the discovery document (OIDC Discovery §4.3). https, no query, no fragment.',
    ),
    audiences: z
      .array(z.string().min(1).max(1024))
      .min(1)
      .describe('Accepted `aud` values (RFC 7519 §4.1.3); a token must name at least one of them. Like kube-apiserver\'s `--oidc-client-id`.'),
    discovery: z
      .boolean()
      .default(true)
      .describe('Fetch `<issuer>/.well-known/openid-configuration` (OpenID Connect Discovery 1.0) to find the JWKS URL. Off: `jwksUri` must be set.'),
    jwksUri: httpsUrl('jwksUri')
      .optional()
      .describe('JWKS URL to use instead of the discovered `jwks_uri` (required when `discovery` is off). https only.'),
    caFile: z
      .string()
      .min(1)
      .optional()
      .describe('PEM file of the CA certificates that sign the issuer\'s TLS certificate. Replaces the system trust store for this issuer\'s discovery and JWKS requests.'),
    algorithms: z
      .array(z.enum(ASYMMETRIC_ALGORITHMS))
      .min(1)
      .default([...DEFAULT_ALGORITHMS])
      .describe('Signature algorithms accepted (RFC 8725 §3.1). Only asymmetric ones can be named: `none` and `HS*` are never accepted.'),
    clockSkewSeconds: z
      .number()
      .int()
      .min(0)
      .max(300)
      .default(30)
      .describe('Clock skew tolerated when checking `exp` and `nbf` (RFC 7519 §4.1.4, §4.1.5), in seconds; at most 300.'),
    acceptIdTokens: z
      .boolean()
      .default(false)
      .describe(
        'Also accept JWTs that are not typed `at+jwt` (RFC 9068 §2.1, RFC 8725 §3.11): OIDC ID tokens, as kubectl\'s oidc login sends them, and access tokens of providers that do not type them. Off: only RFC 9068 access tokens.',
      ),
    usernameClaim: claimName
      .default('sub')
      .describe('Claim holding the username. `sub` is stable and unique per issuer; `email` is accepted only when `email_verified` is not false.'),
    usernamePrefix: z
      .string()
      .max(128)
      .default('')
      .describe('Prefix put before every username, e.g. `corp:`. Must not be able to build `system:…`. With several issuers each needs its own, none the beginning of another.'),
    groupsClaim: claimName
      .default('groups')
      .describe('Claim holding the groups: a list of strings or one string. A token without it has no groups (then only rules for users or everyone match).'),
    groupsPrefix: z
      .string()
      .max(128)
      .default('oidc:')
      .describe('Prefix put before every group, so that the identity provider can never name a `system:` group. Must not be able to build `system:…`; empty only with `allowUnprefixedGroups`.'),
    allowUnprefixedGroups: z
      .boolean()
      .default(false)
      .describe('Allow an empty `groupsPrefix` (groups used as the identity provider names them). Groups starting with `system:` are then dropped from every token.'),
    requiredClaims: z
      .record(claimName, z.string())
      .default({})
      .describe('Claims a token must carry with these values (a string claim equal to it, or a list claim containing it), like kube-apiserver\'s `--oidc-required-claim`.'),
    machines: MachineDetectionSchema.default(MachineDetectionSchema.parse({})),
    jwksCacheMaxAgeSeconds: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .default(600)
      .describe('How long fetched signing keys are used before they are fetched again, in seconds. If that refresh fails, tokens of this issuer are refused (fail closed).'),
    jwksCooldownSeconds: z
      .number()
      .int()
      .min(1)
      .max(3_600)
      .default(30)
      .describe('After a successful JWKS fetch, a token naming an unknown key (`kid`) triggers another fetch only after this many seconds (rate-limited refresh).'),
    retryAfterFailureSeconds: z
      .number()
      .int()
      .min(0)
      .max(300)
      .default(5)
      .describe('After a failed discovery or JWKS fetch, tokens of this issuer are refused without contacting it for this many seconds.'),
    timeoutSeconds: z.number().int().min(1).max(60).default(5).describe('Time limit of each discovery and JWKS request, in seconds.'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (!c.discovery && !c.jwksUri) ctx.addIssue({ code: 'custom', path: ['jwksUri'], message: 'jwksUri is required when discovery is off' });
    if (c.groupsPrefix === '') {
      if (!c.allowUnprefixedGroups)
        ctx.addIssue({
          code: 'custom',
          path: ['groupsPrefix'],
          message: 'an empty groupsPrefix lets the identity provider name any group; set allowUnprefixedGroups: true to accept that',
        });
    } else if (prefixCanBuildReserved(c.groupsPrefix)) {
      ctx.addIssue({ code: 'custom', path: ['groupsPrefix'], message: `groupsPrefix "${c.groupsPrefix}" could build a "system:" group` });
    }
    if (c.usernamePrefix !== '' && prefixCanBuildReserved(c.usernamePrefix))
      ctx.addIssue({ code: 'custom', path: ['usernamePrefix'], message: `usernamePrefix "${c.usernamePrefix}" could build a "system:" username` });
  })
  .describe('One trusted OpenID Connect issuer whose JWT bearer tokens are accepted.');

/** Several issuers: unique issuer URLs, and distinct prefixes so that no issuer can mint another's users or groups. */
export const IssuersSchema = z
  .array(IssuerConfigSchema)
  .superRefine((list, ctx) => {
    const seen = new Map<string, number>();
    list.forEach((c, i) => {
      const first = seen.get(c.issuer);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'issuer'], message: `issuer ${c.issuer} is configured twice (also at ${first})` });
      else seen.set(c.issuer, i);
    });
    if (list.length < 2) return;
    // Prefix-free: were one prefix the beginning of another (or empty), the issuer with the
    // shorter one could mint names that look like the other issuer's.
    for (const field of ['usernamePrefix', 'groupsPrefix'] as const) {
      list.forEach((c, i) => {
        const j = list.findIndex((o, k) => k !== i && c[field].startsWith(o[field]));
        if (j !== -1)
          ctx.addIssue({
            code: 'custom',
            path: [i, field],
            message: `with several issuers each needs its own non-empty ${field}, none the beginning of another; "${c[field]}" clashes with "${list[j]?.[field] ?? ''}" of issuer ${j}`,
          });
      });
    }
  })
  .describe('Trusted OpenID Connect issuers. A token is checked against the one its (unverified) `iss` names, with that issuer\'s keys only.');

/** An issuer as written in the configuration (defaults not yet applied). */
export type IssuerConfigInput = z.input<typeof IssuerConfigSchema>;
/** An issuer with every default applied. */
export type IssuerConfig = z.output<typeof IssuerConfigSchema>;
