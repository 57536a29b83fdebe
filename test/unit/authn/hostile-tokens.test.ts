/**
 * Hostile and broken tokens against createTokenVerifier, with a local issuer the test owns
 * (./local-issuer.ts) so it can sign any claims "as the issuer". Every refusal is checked for
 * its code, and no error (message or detail) may contain the token.
 */
import assert from 'node:assert/strict';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { base64url, exportJWK, generateKeyPair, importPKCS8, SignJWT } from 'jose';
import type { AuthnError } from '../../../src/authn/authn-error.ts';
import { createTokenVerifier, type TokenVerifier } from '../../../src/authn/create-verifier.ts';
import type { IssuerConfigInput } from '../../../src/authn/issuer-config.ts';
import { createDevCa } from '../../../src/tls/dev-ca.ts';
import { startLocalIssuer, type LocalIssuer } from './local-issuer.ts';

const nowS = () => Math.floor(Date.now() / 1000);

describe('createTokenVerifier against hostile tokens', { timeout: 60_000 }, () => {
  let idp: LocalIssuer;
  let other: LocalIssuer;
  let attacker: Server;
  let attackerHits = 0;
  let attackerUrl = '';
  let verifier: TokenVerifier;
  const errors: { token: string; error: AuthnError }[] = [];

  const config = (i: LocalIssuer, o: Partial<IssuerConfigInput> = {}): IssuerConfigInput => ({ issuer: i.issuer, audiences: ['sluice'], caFile: i.caFile, ...o });

  /** Verify, expect a refusal with `code`, remember it for the no-token-in-errors check. */
  async function refused(token: string, code: AuthnError['code'], message?: RegExp, v = verifier): Promise<AuthnError> {
    const r = await v.verify(token);
    assert.equal(r.ok, false, 'the token must be refused');
    if (r.ok) throw new Error('unreachable');
    errors.push({ token, error: r.error });
    assert.equal(r.error.code, code, `${r.error.message} ${JSON.stringify(r.error.detail)}`);
    if (message) assert.match(r.error.message, message);
    return r.error;
  }

  before(async () => {
    idp = await startLocalIssuer();
    other = await startLocalIssuer();
    attacker = createServer((_req, res) => {
      attackerHits++;
      res.end('{}');
    });
    await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', r));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
    verifier = createTokenVerifier([config(idp, { usernamePrefix: 'a:', groupsPrefix: 'a:' }), config(other, { usernamePrefix: 'b:', groupsPrefix: 'b:' })]);
  });

  after(async () => {
    await verifier?.close();
    await idp?.close();
    await other?.close();
    attacker?.close();
  });

  test('control: a well-formed token of the local issuer verifies (discovery + JWKS over TLS with caFile)', async () => {
    const r = await verifier.verify(await idp.sign({ groups: ['sre'] }));
    assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
    assert.equal(r.value.username, 'a:dave');
    assert.deepEqual(r.value.groups, ['a:sre']);
    assert.equal(r.value.issuer, idp.issuer);
    assert.equal(idp.hits.discovery, 1);
  });

  test('alg none is refused', async () => {
    const enc = (o: object) => base64url.encode(JSON.stringify(o));
    const claims = { iss: idp.issuer, aud: 'sluice', sub: 'dave', exp: nowS() + 600, groups: ['system:masters'] };
    for (const alg of ['none', 'None', 'NONE']) {
      await refused(`${enc({ alg, typ: 'at+jwt' })}.${enc(claims)}.`, 'AUTHN_INVALID', /algorithm/);
    }
  });

  test('HS256 with the issuer\'s public key as the HMAC secret is refused', async () => {
    const pem = createPublicKey({ key: idp.publicJwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    for (const secret of [pem, JSON.stringify(idp.publicJwk)]) {
      const token = await new SignJWT({ iss: idp.issuer, aud: 'sluice', sub: 'dave', exp: nowS() + 600 })
        .setProtectedHeader({ alg: 'HS256', kid: idp.kid, typ: 'at+jwt' })
        .sign(new TextEncoder().encode(secret));
      await refused(token, 'AUTHN_INVALID', /algorithm/);
    }
  });

  test('an embedded jwk header with the attacker\'s key is ignored (signature checked with the issuer\'s key)', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(publicKey);
    await refused(await idp.sign({}, { jwk, kid: idp.kid }, privateKey), 'AUTHN_INVALID', /signature/);
    await refused(await idp.sign({}, { jwk, kid: undefined }, privateKey), 'AUTHN_INVALID', /signature/);
  });

  test('jku and x5u pointing elsewhere are never fetched', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    await refused(await idp.sign({}, { jku: `${attackerUrl}/jwks`, kid: 'attacker' }, privateKey), 'AUTHN_INVALID');
    await refused(await idp.sign({}, { x5u: `${attackerUrl}/cert.pem`, kid: idp.kid } as never, privateKey), 'AUTHN_INVALID');
    assert.equal(attackerHits, 0, 'the verifier never contacted the attacker');
  });

  test('an x5c chain of the attacker\'s certificate is ignored', async () => {
    const ca = await createDevCa({ commonName: 'attacker' });
    const leaf = await ca.issue({ commonName: 'attacker' });
    const der = leaf.cert.replace(/-----[^-]+-----|\s/g, '');
    const key = await importPKCS8(leaf.key, 'ES256');
    await refused(await idp.sign({}, { x5c: [der], kid: idp.kid }, key), 'AUTHN_INVALID', /signature/);
  });

  test('a tampered payload (groups edited) fails the signature', async () => {
    const token = await idp.sign({ groups: ['developers'] });
    const [h, , s] = token.split('.');
    const forged = base64url.encode(JSON.stringify({ iss: idp.issuer, aud: 'sluice', sub: 'dave', exp: nowS() + 600, groups: ['sre'] }));
    await refused(`${h}.${forged}.${s}`, 'AUTHN_INVALID', /signature/);
  });

  test('expired beyond the skew is refused; within the 30 s skew it is accepted', async () => {
    await refused(await idp.sign({ exp: nowS() - 31, iat: nowS() - 700 }), 'AUTHN_INVALID', /expired/);
    assert.equal((await verifier.verify(await idp.sign({ exp: nowS() - 20, iat: nowS() - 700 }))).ok, true);
  });

  test('nbf in the future beyond the skew is refused; within the skew it is accepted', async () => {
    await refused(await idp.sign({ nbf: nowS() + 120 }), 'AUTHN_INVALID', /not yet valid/);
    assert.equal((await verifier.verify(await idp.sign({ nbf: nowS() + 20 }))).ok, true);
  });

  test('the injected clock decides exp and nbf', async () => {
    let clock = new Date();
    const v = createTokenVerifier([config(idp)], { now: () => clock });
    try {
      const token = await idp.sign({ exp: nowS() + 600 });
      assert.equal((await v.verify(token)).ok, true);
      clock = new Date(Date.now() + 700_000);
      await refused(token, 'AUTHN_INVALID', /expired/, v);
    } finally {
      await v.close();
    }
  });

  test('missing or wrong audience is refused', async () => {
    await refused(await idp.sign({ aud: undefined }), 'AUTHN_INVALID', /aud/);
    await refused(await idp.sign({ aud: 'kubernetes' }), 'AUTHN_INVALID', /audience/);
    await refused(await idp.sign({ aud: ['other', 'another'] }), 'AUTHN_INVALID', /audience/);
    assert.equal((await verifier.verify(await idp.sign({ aud: ['other', 'sluice'] }))).ok, true, 'one accepted audience among several');
  });

  test('missing subject or expiry is refused', async () => {
    await refused(await idp.sign({ sub: undefined }), 'AUTHN_INVALID', /sub/);
    await refused(await idp.sign({ exp: undefined }), 'AUTHN_INVALID', /exp/);
  });

  test('an unknown issuer is refused before any network request', async () => {
    const before = idp.hits.jwks + idp.hits.discovery;
    await refused(await idp.sign({ iss: 'https://evil.example' }), 'AUTHN_INVALID', /issuer is not trusted/);
    await refused(await idp.sign({ iss: `${idp.issuer}/` }), 'AUTHN_INVALID', /issuer is not trusted/);
    await refused(await idp.sign({ iss: undefined }), 'AUTHN_INVALID', /issuer/);
    assert.equal(idp.hits.jwks + idp.hits.discovery, before);
  });

  test('wrong iss: a token signed by one configured issuer claiming to be another is checked with the other\'s keys only', async () => {
    const error = await refused(await idp.sign({ iss: other.issuer }), 'AUTHN_INVALID');
    assert.equal(error.detail.issuer, other.issuer);
    await refused(await idp.sign({ iss: other.issuer }, { kid: other.kid }), 'AUTHN_INVALID', /signature/);
  });

  test('an ID token (typ JWT or none) is refused unless acceptIdTokens', async () => {
    const token = await idp.sign({}, { typ: 'JWT' });
    await refused(token, 'AUTHN_INVALID', /type/);
    await refused(await idp.sign({}, { typ: undefined }), 'AUTHN_INVALID', /type/);
    assert.equal((await verifier.verify(await idp.sign({}, { typ: 'application/AT+JWT' }))).ok, true, 'media type form, case-insensitive');
    const v = createTokenVerifier([config(idp, { acceptIdTokens: true })]);
    try {
      const r = await v.verify(token);
      assert.ok(r.ok);
      assert.equal(r.value.tokenType, 'id_token');
    } finally {
      await v.close();
    }
  });

  test('an algorithm outside the issuer\'s allowlist is refused even when the key is the issuer\'s', async () => {
    const v = createTokenVerifier([config(idp, { algorithms: ['RS256'] })]);
    try {
      await refused(await idp.sign(), 'AUTHN_INVALID', /algorithm/, v);
    } finally {
      await v.close();
    }
  });

  test('garbage, JWE-shaped and oversized tokens are refused', async () => {
    for (const t of ['not-a-jwt', 'a.b.c', 'eyJhbGciOiJFUzI1NiJ9.e30.', 'a.b.c.d.e']) await refused(t, 'AUTHN_INVALID');
    await refused(`${await idp.sign()}${'A'.repeat(17_000)}`, 'AUTHN_INVALID', /too large/);
  });

  test('an unknown kid refreshes the JWKS at most once per cooldown', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const before = idp.hits.jwks;
    for (let i = 0; i < 5; i++) await refused(await idp.sign({}, { kid: `rotated-${i}` }, privateKey), 'AUTHN_INVALID', /key/);
    assert.ok(idp.hits.jwks - before <= 1, `JWKS fetched ${idp.hits.jwks - before} times`);
  });

  test('groups claim naming system:masters becomes prefixed, never system:', async () => {
    const r = await verifier.verify(await idp.sign({ groups: ['system:masters'] }));
    assert.ok(r.ok);
    assert.deepEqual(r.value.groups, ['a:system:masters']);
  });

  test('no error message or detail contains the token', () => {
    assert.ok(errors.length > 20);
    for (const { token, error } of errors) {
      const text = `${error.message} ${JSON.stringify(error.detail)}`;
      assert.ok(!text.includes(token), `${error.message} leaks the token`);
      for (const part of token.split('.').filter((p) => p.length > 16)) assert.ok(!text.includes(part), `${error.message} leaks part of the token`);
    }
  });
});

describe('createTokenVerifier when the issuer is unavailable (fail closed)', { timeout: 60_000 }, () => {
  test('an unreachable issuer gives AUTHN_ISSUER_UNAVAILABLE (503), never a principal', async () => {
    const idp = await startLocalIssuer();
    const token = await idp.sign();
    const issuer = idp.issuer;
    await idp.close();
    const v = createTokenVerifier([{ issuer, audiences: ['sluice'], caFile: idp.caFile, timeoutSeconds: 2 }]);
    try {
      const r = await v.verify(token);
      assert.equal(!r.ok && r.error.code, 'AUTHN_ISSUER_UNAVAILABLE');
      assert.equal(!r.ok && r.error.status, 503);
      assert.ok(!r.ok && !JSON.stringify(r.error).includes(token));
    } finally {
      await v.close();
    }
  });

  test('a discovery document naming another issuer is refused (OIDC Discovery §4.3)', async () => {
    const idp = await startLocalIssuer();
    idp.mode.discovery = 'wrong-issuer';
    const v = createTokenVerifier([{ issuer: idp.issuer, audiences: ['sluice'], caFile: idp.caFile }]);
    try {
      const r = await v.verify(await idp.sign());
      assert.equal(!r.ok && r.error.code, 'AUTHN_ISSUER_UNAVAILABLE');
      assert.match(String(!r.ok && r.error.detail.why), /differs/);
      assert.equal(idp.hits.jwks, 0);
    } finally {
      await v.close();
      await idp.close();
    }
  });

  test('an issuer certificate not signed by caFile is refused (TLS), as is a system-trust fetch of a private CA', async () => {
    const idp = await startLocalIssuer();
    const stranger = await startLocalIssuer();
    const token = await idp.sign();
    for (const cfg of [{ caFile: stranger.caFile }, {}]) {
      const v = createTokenVerifier([{ issuer: idp.issuer, audiences: ['sluice'], ...cfg }]);
      try {
        const r = await v.verify(token);
        assert.equal(!r.ok && r.error.code, 'AUTHN_ISSUER_UNAVAILABLE', JSON.stringify(cfg));
      } finally {
        await v.close();
      }
    }
    assert.equal(idp.hits.discovery, 0, 'no TLS handshake completed');
    await idp.close();
    await stranger.close();
  });

  test('JWKS failing: refused, then not contacted during the back-off, retried after it', async () => {
    const idp = await startLocalIssuer();
    idp.mode.jwks = 'error';
    let clock = new Date();
    const v = createTokenVerifier([{ issuer: idp.issuer, audiences: ['sluice'], caFile: idp.caFile, retryAfterFailureSeconds: 5 }], { now: () => clock });
    try {
      const token = await idp.sign();
      const r1 = await v.verify(token);
      assert.equal(!r1.ok && r1.error.code, 'AUTHN_ISSUER_UNAVAILABLE');
      const hits = idp.hits.jwks;
      const r2 = await v.verify(token);
      assert.equal(!r2.ok && r2.error.code, 'AUTHN_ISSUER_UNAVAILABLE');
      assert.equal(idp.hits.jwks, hits, 'no request during the back-off');
      idp.mode.jwks = 'ok';
      clock = new Date(clock.getTime() + 6_000);
      const r3 = await v.verify(token);
      assert.ok(r3.ok, JSON.stringify(!r3.ok && r3.error));
    } finally {
      await v.close();
      await idp.close();
    }
  });

  test('JWKS failing on refresh: unknown kids cannot lock out holders of valid tokens (cached keys serve during the back-off)', async () => {
    const idp = await startLocalIssuer();
    const v = createTokenVerifier([{ issuer: idp.issuer, audiences: ['sluice'], caFile: idp.caFile, jwksCooldownSeconds: 1, retryAfterFailureSeconds: 30 }]);
    try {
      const good = await idp.sign();
      assert.equal((await v.verify(good)).ok, true);
      idp.mode.jwks = 'error';
      await new Promise((r) => setTimeout(r, 1_100)); // past jose's cooldown: an unknown kid now refetches
      const { privateKey } = await generateKeyPair('ES256');
      const r1 = await v.verify(await idp.sign({}, { kid: 'unknown-1' }, privateKey));
      assert.equal(!r1.ok && r1.error.code, 'AUTHN_ISSUER_UNAVAILABLE', 'the refresh failed');
      const hits = idp.hits.jwks;
      assert.equal((await v.verify(good)).ok, true, 'a valid token still verifies with the cached keys');
      const r2 = await v.verify(await idp.sign({}, { kid: 'unknown-2' }, privateKey));
      assert.equal(!r2.ok && r2.error.code, 'AUTHN_INVALID');
      assert.equal(idp.hits.jwks, hits, 'no JWKS request during the back-off');
    } finally {
      await v.close();
      await idp.close();
    }
  });

  test('discovery failing: refused, retried after the back-off', async () => {
    const idp = await startLocalIssuer();
    idp.mode.discovery = 'error';
    let clock = new Date();
    const v = createTokenVerifier([{ issuer: idp.issuer, audiences: ['sluice'], caFile: idp.caFile }], { now: () => clock });
    try {
      const token = await idp.sign();
      assert.equal((await v.verify(token)).ok, false);
      assert.equal((await v.verify(token)).ok, false);
      assert.equal(idp.hits.discovery, 1);
      idp.mode.discovery = 'ok';
      clock = new Date(clock.getTime() + 6_000);
      assert.equal((await v.verify(token)).ok, true);
    } finally {
      await v.close();
      await idp.close();
    }
  });

  test('discovery off: the configured jwksUri is used', async () => {
    const idp = await startLocalIssuer();
    const v = createTokenVerifier([{ issuer: idp.issuer, audiences: ['sluice'], caFile: idp.caFile, discovery: false, jwksUri: `${idp.issuer}/jwks` }]);
    try {
      assert.equal((await v.verify(await idp.sign())).ok, true);
      assert.equal(idp.hits.discovery, 0);
    } finally {
      await v.close();
      await idp.close();
    }
  });

  test('bad configuration throws CONFIG_INVALID at creation', () => {
    assert.throws(() => createTokenVerifier([{ issuer: 'https://x.example', audiences: ['a'], algorithms: ['HS256' as never] }]), { code: 'CONFIG_INVALID' });
    assert.throws(() => createTokenVerifier([{ issuer: 'https://x.example', audiences: ['a'], caFile: '/nonexistent/ca.pem' }]), { code: 'CONFIG_INVALID' });
  });
});
