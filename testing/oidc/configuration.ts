/**
 * oidc-provider configuration for the test/demo identity provider: the demo people as
 * accounts, one first-party public client for people (authorization code + PKCE, native app
 * with loopback redirects per RFC 8252), one confidential client per machine identity
 * (client-credentials grant), JWT access tokens through resource indicators (RFC 8707) with
 * `groups`, `preferred_username` and `email` as top-level claims (RFC 9068 style), and consent
 * granted automatically for the first-party client.
 */
import type { Account, ClientMetadata, Configuration, JWK, KoaContextWithOIDC } from 'oidc-provider';
import type { DemoUser } from '../demo/users.ts';
import { audienceForResource, resourceForAudience } from './audience.ts';
import { LOOPBACK_REDIRECT_URI, PERSON_SCOPES } from './constants.ts';
import { createMemoryStore } from './memory-store.ts';

export interface ConfigurationInput {
  users: readonly DemoUser[];
  /** client_id of the first-party public client used by people. */
  publicClientId: string;
  /** client_secret per machine identity name. */
  machineSecrets: ReadonlyMap<string, string>;
  /** Audience used when a client names no resource. */
  defaultAudience: string;
  /** Access-token lifetime in seconds. */
  accessTokenTtl: number;
  /** Private signing keys (JWK, with `kid`). */
  signingKeys: JWK[];
  /** Secrets for signed cookies. */
  cookieKeys: string[];
}

/** The claims a demo identity contributes to its tokens (no `groups` when it has none). */
export function identityClaims(user: DemoUser): Record<string, unknown> {
  return {
    preferred_username: user.name,
    ...(user.email ? { email: user.email, email_verified: true } : {}),
    ...(user.groups.length > 0 ? { groups: [...user.groups] } : {}),
  };
}

function account(user: DemoUser): Account {
  return {
    accountId: user.name,
    claims: () => ({ sub: user.name, name: user.name, ...identityClaims(user) }),
  };
}

function clientsFor(input: ConfigurationInput): ClientMetadata[] {
  const publicClient: ClientMetadata = {
    client_id: input.publicClientId,
    client_name: 'Sluice CLI (demo)',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [LOOPBACK_REDIRECT_URI, 'http://localhost/callback'],
    scope: PERSON_SCOPES.join(' '),
  };
  const machines = input.users
    .filter((u) => u.kind === 'machine')
    .map((u): ClientMetadata => {
      const secret = input.machineSecrets.get(u.name);
      if (!secret) throw new Error(`no client secret for machine identity ${u.name}`);
      return {
        client_id: u.name,
        client_name: u.description,
        client_secret: secret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      };
    });
  return [publicClient, ...machines];
}

/** Build the oidc-provider configuration. */
export function buildConfiguration(input: ConfigurationInput): Configuration {
  const people = new Map(input.users.filter((u) => u.kind === 'person').map((u) => [u.name, u]));
  const machines = new Map(input.users.filter((u) => u.kind === 'machine').map((u) => [u.name, u]));
  const ttl = input.accessTokenTtl;

  return {
    adapter: createMemoryStore(),
    clients: clientsFor(input),
    jwks: { keys: input.signingKeys },
    cookies: { keys: input.cookieKeys },
    scopes: [...PERSON_SCOPES],
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    // Put scope-requested claims into the ID token too (kube-apiserver style consumers read
    // groups from the ID token, they never call userinfo).
    conformIdTokenClaims: false,
    findAccount: (_ctx, sub) => {
      const user = people.get(sub);
      return user ? account(user) : undefined;
    },
    extraTokenClaims: (_ctx, token) => {
      const accountId = 'accountId' in token ? token.accountId : undefined;
      const user = accountId ? people.get(accountId) : machines.get(token.clientId ?? '');
      return user ? identityClaims(user) : undefined;
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf ?? resourceForAudience(input.defaultAudience),
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator) => ({
          scope: 'kubernetes',
          audience: audienceForResource(resourceIndicator),
          accessTokenFormat: 'jwt',
          accessTokenTTL: ttl,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    // First-party client: consent is implied, so grant what it asked for without a prompt.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const { oidc } = ctx;
      const client = oidc.client;
      const session = oidc.session;
      if (!client || !session?.accountId) return undefined;
      const grantId = (oidc.result?.consent as { grantId?: string } | undefined)?.grantId ?? session.grantIdFor(client.clientId);
      if (grantId) return oidc.provider.Grant.find(grantId);
      if (client.clientId !== input.publicClientId) return undefined;
      const grant = new oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope(PERSON_SCOPES.filter((s) => s !== 'offline_access').join(' '));
      for (const indicator of Object.keys(oidc.resourceServers ?? {})) grant.addResourceScope(indicator, 'kubernetes');
      await grant.save();
      return grant;
    },
    pkce: { required: () => true },
    ttl: {
      AccessToken: ttl,
      ClientCredentials: ttl,
      IdToken: ttl,
      RefreshToken: 24 * 3600,
      Interaction: 600,
      Session: 8 * 3600,
      Grant: 8 * 3600,
      AuthorizationCode: 60,
    },
    clientBasedCORS: () => false,
    renderError: (ctx, out) => {
      ctx.type = 'html';
      const rows = Object.entries(out)
        .map(([k, v]) => `<p><b>${escapeHtml(k)}</b>: ${escapeHtml(String(v))}</p>`)
        .join('');
      ctx.body = `<!doctype html><title>Sluice demo IdP: error</title><h1>Sign-in error</h1>${rows}`;
    },
  };
}

/** Minimal HTML escaping for text and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
