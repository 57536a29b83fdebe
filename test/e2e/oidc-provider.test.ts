/**
 * The test identity provider (testing/oidc) end to end: people get JWT access tokens and ID
 * tokens through the authorization-code + PKCE flow (login form posted by the program), the
 * machine identity through the client-credentials grant; every token verifies with jose
 * against the provider's published JWKS and carries the expected iss/aud/sub/groups. Wrong
 * secrets, unknown users and wrong passwords are refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, customFetch, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { DEMO_USERS } from '../../testing/demo/users.ts';
import { createTrustedFetch, type TrustedFetch } from '../../testing/oidc/http-client.ts';
import { startIdentityProvider, type IdentityProvider } from '../../testing/oidc/index.ts';

const TIMEOUT = { timeout: 30_000 };

describe('test identity provider (oidc-provider)', { timeout: 120_000 }, () => {
  let idp: IdentityProvider;
  let http: TrustedFetch;
  let jwks: ReturnType<typeof createRemoteJWKSet>;

  const verify = async (token: string, audience: string): Promise<JWTPayload> => {
    const { payload } = await jwtVerify(token, jwks, { issuer: idp.issuer, audience, algorithms: ['RS256'] });
    return payload;
  };

  before(async () => {
    idp = await startIdentityProvider({ clients: { machineSecrets: { 'ci-bot': 'ci-bot-secret-for-tests' } } });
    http = createTrustedFetch(idp.caCert);
    jwks = createRemoteJWKSet(new URL(idp.jwksUri), { [customFetch]: (url, init) => http(url, init as RequestInit) });
  });

  after(async () => {
    await http?.close();
    await idp?.close();
  });

  test('publishes discovery metadata for the flows it serves', TIMEOUT, async () => {
    const res = await http(`${idp.issuer}/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
    const meta = (await res.json()) as Record<string, unknown>;
    assert.equal(meta.issuer, idp.issuer);
    assert.equal(meta.jwks_uri, idp.jwksUri);
    assert.ok((meta.grant_types_supported as string[]).includes('client_credentials'));
    assert.ok((meta.grant_types_supported as string[]).includes('authorization_code'));
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.ok((meta.claims_supported as string[]).includes('groups'));
  });

  for (const user of DEMO_USERS.filter((u) => u.kind === 'person')) {
    test(`${user.name}: code + PKCE login yields JWTs with sub, aud, iss and groups`, TIMEOUT, async () => {
      const tokens = await idp.tokensFor(user.name);
      assert.equal(decodeProtectedHeader(tokens.accessToken).typ, 'at+jwt', 'RFC 9068 access token');

      const at = await verify(tokens.accessToken, 'sluice');
      assert.equal(at.sub, user.name);
      assert.equal(at.preferred_username, user.name);
      assert.equal(at.email, user.email);
      assert.equal(at.client_id, idp.publicClientId);
      assert.equal((at.exp ?? 0) - (at.iat ?? 0), 3600);
      if (user.groups.length > 0) assert.deepEqual(at.groups, user.groups);
      else assert.equal(at.groups, undefined, 'no groups claim for an identity without groups');

      assert.ok(tokens.idToken, 'an ID token is issued');
      const id = await verify(tokens.idToken, idp.publicClientId);
      assert.equal(id.sub, user.name);
      if (user.groups.length > 0) assert.deepEqual(id.groups, user.groups);
      else assert.equal(id.groups, undefined);
      assert.ok(tokens.expiresAt.getTime() > Date.now() + 3000_000);
    });
  }

  test('tokenFor returns the access token; another audience can be asked for', TIMEOUT, async () => {
    const token = await idp.tokenFor('alice', { audience: 'kubernetes' });
    const at = await verify(token, 'kubernetes');
    assert.equal(at.sub, 'alice');
    assert.deepEqual(at.groups, ['sre', 'approvers']);
    await assert.rejects(verify(token, 'sluice'), /aud/);
  });

  test('offline access goes through the consent step and issues a refresh token', TIMEOUT, async () => {
    const tokens = await idp.tokensFor('carol', { offlineAccess: true });
    assert.ok(tokens.refreshToken, 'refresh token issued');
    const at = await verify(tokens.accessToken, 'sluice');
    assert.deepEqual(at.groups, ['approvers']);
  });

  test('ci-bot: client credentials yields a JWT with groups ["automation"]', TIMEOUT, async () => {
    const machine = idp.machineClients.find((m) => m.clientId === 'ci-bot');
    assert.ok(machine);
    assert.equal(machine.clientSecret, 'ci-bot-secret-for-tests');
    const at = await verify(await idp.clientCredentialsToken('ci-bot', machine.clientSecret), 'sluice');
    assert.equal(at.sub, 'ci-bot');
    assert.equal(at.client_id, 'ci-bot');
    assert.deepEqual(at.groups, ['automation']);
  });

  test('ci-bot with a wrong secret is refused', TIMEOUT, async () => {
    await assert.rejects(idp.clientCredentialsToken('ci-bot', 'not-the-secret'), /client-credentials grant for "ci-bot" failed: invalid_client/);
  });

  test('an unknown client is refused', TIMEOUT, async () => {
    await assert.rejects(idp.clientCredentialsToken('nobody-bot', 'x'), /invalid_client/);
  });

  test('an unknown user cannot log in', TIMEOUT, async () => {
    await assert.rejects(idp.tokenFor('eve'), /sign-in as "eve" was refused/);
  });

  test('a wrong password is refused', TIMEOUT, async () => {
    const { loginWithPassword } = await import('../../testing/oidc/login-flow.ts');
    await assert.rejects(
      loginWithPassword({ issuer: idp.issuer, caCert: idp.caCert, username: 'bob', password: 'guess' }),
      /sign-in as "bob" was refused/,
    );
  });

  test('the login step is a real HTML form a browser can submit', TIMEOUT, async () => {
    const auth = new URL(`${idp.issuer}/auth`);
    auth.search = new URLSearchParams({
      client_id: idp.publicClientId,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: 'http://127.0.0.1:8000/callback',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }).toString();
    const first = await http(auth.href, { redirect: 'manual' });
    assert.equal(first.status, 303);
    const page = await http(new URL(first.headers.get('location') ?? '', idp.issuer).href, {
      headers: { cookie: first.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ') },
    });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const html = await page.text();
    assert.match(html, /<form method="post" action="\/interaction\/[\w-]+\/login"/);
    assert.match(html, /<input id="login" name="login"/);
    assert.match(html, /<input id="password" name="password" type="password"/);
  });
});
