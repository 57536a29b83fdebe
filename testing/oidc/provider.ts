/**
 * startIdentityProvider: a real OpenID Provider (oidc-provider, certified) on loopback HTTPS
 * for tests and the demo. People log in through its HTML form (authorization code + PKCE);
 * machine identities use the client-credentials grant. Access tokens are JWTs carrying
 * `groups`, `preferred_username` and `email`, verifiable against the provider's JWKS.
 *
 * `tokenFor` and `clientCredentialsToken` obtain tokens the way a client would (see
 * ./login-flow.ts and ./client-credentials.ts); nothing here signs a token by hand.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import { isIP, type AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type JWK } from 'oidc-provider';
import { createDevCa, type DevCa } from '../../src/tls/dev-ca.ts';
import { DEMO_PASSWORD, DEMO_USERS, type DemoUser } from '../demo/users.ts';
import { fetchClientCredentialsToken } from './client-credentials.ts';
import { buildConfiguration } from './configuration.ts';
import { DEFAULT_AUDIENCE, DEFAULT_PUBLIC_CLIENT_ID, type TokenSet } from './constants.ts';
import { createInteractionHandler } from './interactions.ts';
import { loginWithPassword } from './login-flow.ts';

export interface IdentityProviderOptions {
  /** Port; 0 or omitted picks a free one. */
  port?: number;
  /** Address to listen on and name in the issuer URL (default 127.0.0.1; keep it on loopback). */
  host?: string;
  /** CA to issue the server certificate from; a fresh dev CA when omitted. */
  ca?: DevCa;
  /** Identities; default the demo table (testing/demo/users.ts). */
  users?: readonly DemoUser[];
  clients?: {
    /** client_id of the public client people log in with (default `sluice-cli`). */
    publicClientId?: string;
    /** client_secret per machine identity; generated for any not given. */
    machineSecrets?: Record<string, string>;
  };
  /** Audience of access tokens when a client names none (default `sluice`). */
  audience?: string;
  /** Password of every person (default the demo password). */
  password?: string;
  /** Access-token lifetime in seconds (default 3600). */
  accessTokenTtlSeconds?: number;
}

export interface MachineClient {
  clientId: string;
  clientSecret: string;
  groups: string[];
}

export interface IdentityProvider {
  /** Issuer URL, e.g. https://127.0.0.1:43123 (no trailing slash). */
  issuer: string;
  port: number;
  /** PEM of the CA that signed the provider's certificate (trust this to reach it). */
  caCert: string;
  jwksUri: string;
  /** Default access-token audience. */
  audience: string;
  publicClientId: string;
  machineClients: MachineClient[];
  users: readonly DemoUser[];
  password: string;
  /** A person's JWT access token via the authorization-code + PKCE flow. */
  tokenFor(username: string, opts?: { audience?: string }): Promise<string>;
  /** All tokens of that flow (access, ID, refresh with `offlineAccess`). */
  tokensFor(username: string, opts?: { audience?: string; offlineAccess?: boolean }): Promise<TokenSet>;
  /** A machine's JWT access token via the client-credentials grant. */
  clientCredentialsToken(clientId: string, clientSecret: string, audience?: string): Promise<string>;
  close(): Promise<void>;
}

async function signingKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg: 'RS256', use: 'sig', kid: randomBytes(8).toString('hex') } as JWK;
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Start the identity provider. Close it with `close()`. */
export async function startIdentityProvider(opts: IdentityProviderOptions = {}): Promise<IdentityProvider> {
  const users = opts.users ?? DEMO_USERS;
  const password = opts.password ?? DEMO_PASSWORD;
  const audience = opts.audience ?? DEFAULT_AUDIENCE;
  const publicClientId = opts.clients?.publicClientId ?? DEFAULT_PUBLIC_CLIENT_ID;
  const machineClients: MachineClient[] = users
    .filter((u) => u.kind === 'machine')
    .map((u) => ({
      clientId: u.name,
      clientSecret: opts.clients?.machineSecrets?.[u.name] ?? randomBytes(24).toString('base64url'),
      groups: [...u.groups],
    }));

  const ca = opts.ca ?? (await createDevCa({ commonName: 'Sluice demo identity provider CA' }));
  const host = opts.host ?? '127.0.0.1';
  const isIp = isIP(host) !== 0;
  const tls = await ca.issue({
    commonName: host,
    dnsNames: [...new Set(['localhost', ...(isIp ? [] : [host])])],
    ips: [...new Set(['127.0.0.1', '::1', ...(isIp ? [host] : [])])],
  });
  const server = createServer({ cert: tls.cert, key: tls.key });
  const port = await listen(server, host, opts.port ?? 0);
  const issuer = `https://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;

  const provider = new Provider(
    issuer,
    buildConfiguration({
      users,
      publicClientId,
      machineSecrets: new Map(machineClients.map((m) => [m.clientId, m.clientSecret])),
      defaultAudience: audience,
      accessTokenTtl: opts.accessTokenTtlSeconds ?? 3600,
      signingKeys: [await signingKey()],
      cookieKeys: [randomBytes(32).toString('base64url')],
    }),
  );
  const interactions = createInteractionHandler({ provider, users, password, firstPartyClients: new Set([publicClientId]) });
  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (!interactions(req, res)) void callback(req, res);
  });

  const tokensFor: IdentityProvider['tokensFor'] = (username, o = {}) =>
    loginWithPassword({
      issuer,
      caCert: ca.cert,
      clientId: publicClientId,
      username,
      password,
      ...(o.audience ? { audience: o.audience } : {}),
      ...(o.offlineAccess ? { offlineAccess: true } : {}),
    });

  return {
    issuer,
    port,
    caCert: ca.cert,
    jwksUri: `${issuer}/jwks`,
    audience,
    publicClientId,
    machineClients,
    users,
    password,
    tokensFor,
    tokenFor: async (username, o) => (await tokensFor(username, o)).accessToken,
    clientCredentialsToken: async (clientId, clientSecret, aud) =>
      (await fetchClientCredentialsToken({ issuer, caCert: ca.cert, clientId, clientSecret, ...(aud ? { audience: aud } : {}) })).accessToken,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
