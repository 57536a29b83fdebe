/**
 * createTokenVerifier against the real test identity provider (testing/oidc, oidc-provider over
 * HTTPS with its own CA): people through code + PKCE, the machine through client credentials,
 * and attacks that reuse the provider's own published key.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { base64url, decodeJwt, decodeProtectedHeader, exportSPKI, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { createTokenVerifier, type TokenVerifier } from '../../../src/authn/create-verifier.ts';
import { createTrustedFetch } from '../../../testing/oidc/http-client.ts';
import { startIdentityProvider, type IdentityProvider } from '../../../testing/oidc/index.ts';

const SECRET = 'ci-bot-secret-for-authn-tests';
const T = { timeout: 30_000 };

describe('createTokenVerifier with the real identity provider', { timeout: 120_000 }, () => {
  let idp: IdentityProvider;
  let verifier: TokenVerifier;
  let caFile: string;

  before(async () => {
    idp = await startIdentityProvider({ clients: { machineSecrets: { 'ci-bot': SECRET } } });
    caFile = join(mkdtempSync(join(tmpdir(), 'sluice-authn-idp-')), 'ca.pem');
    writeFileSync(caFile, idp.caCert);
    verifier = createTokenVerifier([{ issuer: idp.issuer, audiences: [idp.audience], caFile }]);
  });

  after(async () => {
    await verifier?.close();
    await idp?.close();
  });

  test('a person (bob, code + PKCE): username from sub, groups prefixed oidc:, kind person', T, async () => {
    const token = await idp.tokenFor('bob');
    const r = await verifier.verify(token);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
    assert.equal(r.value.issuer, idp.issuer);
    assert.equal(r.value.subject, 'bob');
    assert.equal(r.value.username, 'bob');
    assert.deepEqual(r.value.groups, ['oidc:developers']);
    assert.equal(r.value.kind, 'person');
    assert.equal(r.value.tokenType, 'access_token');
    assert.equal(r.value.clientId, idp.publicClientId);
    assert.equal(r.value.expiresAt.getTime(), (decodeJwt(token).exp ?? 0) * 1000);
  });

  test('a machine (ci-bot, client credentials): kind machine, groups prefixed', T, async () => {
    const r = await verifier.verify(await idp.clientCredentialsToken('ci-bot', SECRET));
    assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
    assert.equal(r.value.username, 'ci-bot');
    assert.deepEqual(r.value.groups, ['oidc:automation']);
    assert.equal(r.value.kind, 'machine');
  });

  test('a person without groups (mallory) has no groups', T, async () => {
    const r = await verifier.verify(await idp.tokenFor('mallory'));
    assert.ok(r.ok);
    assert.deepEqual(r.value.groups, []);
  });

  test('a token for another audience is refused', T, async () => {
    const r = await verifier.verify(await idp.tokenFor('alice', { audience: 'kubernetes' }));
    assert.equal(!r.ok && r.error.code, 'AUTHN_INVALID');
    assert.match(!r.ok ? r.error.message : '', /audience/);
  });

  test('the ID token is refused by default and accepted with acceptIdTokens for the client audience', T, async () => {
    const { idToken } = await idp.tokensFor('alice');
    assert.ok(idToken);
    const r = await verifier.verify(idToken);
    assert.equal(!r.ok && r.error.code, 'AUTHN_INVALID');
    const v = createTokenVerifier([{ issuer: idp.issuer, audiences: [idp.publicClientId], caFile, acceptIdTokens: true }]);
    try {
      const id = await v.verify(idToken);
      assert.ok(id.ok, JSON.stringify(!id.ok && id.error));
      assert.equal(id.value.tokenType, 'id_token');
      assert.deepEqual(id.value.groups, ['oidc:sre', 'oidc:approvers']);
    } finally {
      await v.close();
    }
  });

  test('attacks with the provider\'s own public key and claims: HS256, alg none, re-signed payload', T, async () => {
    const good = await idp.tokenFor('bob');
    const [h, , sig] = good.split('.');
    const { kid } = decodeProtectedHeader(good);
    const claims = { ...decodeJwt(good), groups: ['system:masters', 'sre'] };
    const tokens: string[] = [];

    // The provider's published key (the dev CA is not in Node's trust store, so a trusting fetch).
    const http = createTrustedFetch(idp.caCert);
    let pub: JWK | undefined;
    try {
      pub = ((await (await http(idp.jwksUri)).json()) as { keys: JWK[] }).keys.find((k) => k.kid === kid);
    } finally {
      await http.close();
    }
    assert.ok(pub, 'the token names a published key');
    const pem = await exportSPKI((await importJWK(pub, 'RS256', { extractable: true })) as CryptoKey);
    for (const secret of [pem, JSON.stringify(pub)])
      tokens.push(await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: kid!, typ: 'at+jwt' }).sign(new TextEncoder().encode(secret)));
    tokens.push(`${base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt' }))}.${base64url.encode(JSON.stringify(claims))}.`);
    tokens.push(`${h}.${base64url.encode(JSON.stringify(claims))}.${sig}`);

    for (const token of tokens) {
      const r = await verifier.verify(token);
      assert.equal(r.ok, false);
      if (r.ok) continue;
      assert.equal(r.error.code, 'AUTHN_INVALID');
      assert.equal(r.error.status, 401);
      assert.ok(!`${r.error.message}${JSON.stringify(r.error.detail)}`.includes(token));
    }
  });
});
