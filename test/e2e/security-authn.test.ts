/**
 * SECURITY.md "Authentication" on the wire: what the gateway answers to forged, foreign,
 * ambiguous or missing credentials (a Kubernetes Status 401/400, never a request upstream), that
 * every refusal is audited with no principal, and that no token ever reaches the audit trail,
 * the cluster or an error message. The verifier's own cases are unit tests (test/unit/authn).
 */
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader, SignJWT, UnsecuredJWT, type JWK, type JWTPayload } from 'jose';
import { startIdentityProvider } from '../../testing/oidc/provider.ts';
import {
  allAuditRecords,
  allTokens,
  assertStatus,
  auditRecord,
  auditSince,
  emulatorMark,
  emulatorSince,
  firstJsonBody,
  JWT_PATTERN,
  rawExchange,
  rawRequest,
  request,
  sha256,
  startSecurityWorld,
  statusLines,
  type HttpAnswer,
  type SecurityWorld,
} from './security-helpers.ts';

const PODS = '/clusters/demo/api/v1/namespaces/dev/pods';

describe('SECURITY.md Authentication: the wire behaviour of the gateway', { timeout: 240_000 }, () => {
  let sw: SecurityWorld;
  let bob: string;
  let claims: JWTPayload;
  let kid: string | undefined;
  let typ: string | undefined;
  /** Forged or foreign tokens sent during the tests (for the leak scan at the end). */
  const sent: string[] = [];

  before(async () => {
    sw = await startSecurityWorld('security-authn');
    bob = await sw.token('bob');
    claims = decodeJwt(bob);
    const header = decodeProtectedHeader(bob);
    kid = header.kid;
    typ = header.typ;
  });

  after(async () => {
    await sw?.stop();
  });

  /** Send a token, expect 401 Unauthorized with a Bearer challenge, nothing upstream, one audit record without principal. */
  async function expectUnauthorized(token: string, what: string, bearerError: string | undefined = 'invalid_token'): Promise<HttpAnswer> {
    sent.push(token);
    const mark = emulatorMark(sw.world);
    const r = await request(sw.world, { path: PODS, token });
    assert.equal(r.status, 401, `${what}: ${r.body}`);
    assertStatus(r.json, 401, 'Unauthorized', what);
    const challenge = String(r.headers['www-authenticate'] ?? '');
    assert.match(challenge, /^Bearer realm="sluice"/, `${what}: WWW-Authenticate`);
    if (bearerError) assert.match(challenge, new RegExp(`error="${bearerError}"`), `${what}: WWW-Authenticate error`);
    assert.ok(!r.body.includes(token), `${what}: the token is echoed in the error`);
    assert.doesNotMatch(r.body, JWT_PATTERN, `${what}: a JWT in the error`);
    assert.deepEqual(emulatorSince(sw.world, mark), [], `${what}: the request reached the cluster`);
    const rec = await auditRecord(sw.world, r.requestId);
    assert.equal(rec.principal, null, `${what}: audit principal`);
    assert.equal(rec.code, 'authn.failed', `${what}: audit event code`);
    assert.equal(rec.decision, undefined, `${what}: no decision is made without identity`);
    assert.equal(rec.outcome?.status, 401);
    assert.match(rec.error?.code ?? '', /^AUTHN_(INVALID|MISSING)$/);
    return r;
  }

  function attackerKey(): { privateKey: ReturnType<typeof generateKeyPairSync>['privateKey']; jwk: JWK } {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = publicKey.export({ format: 'jwk' }) as JWK;
    return { privateKey, jwk };
  }

  /** The issuer's public signing key, fetched from its JWKS (trusting the world's CA). */
  async function issuerPublicKeyPem(): Promise<{ pem: string; jwk: JWK }> {
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get(sw.world.idp.jwksUri, { ca: sw.world.ca.cert }, (r) => {
          let s = '';
          r.setEncoding('utf8').on('data', (d: string) => (s += d));
          r.on('end', () => resolve(s));
        })
        .on('error', reject);
    });
    const keys = (JSON.parse(body) as { keys: JWK[] }).keys;
    const jwk = keys.find((k) => k.kid === kid) ?? keys[0];
    assert.ok(jwk, 'the issuer publishes a key');
    const pem = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    return { pem, jwk };
  }

  test('control: bob\'s real token is accepted and the cluster sees bob, not the token', { timeout: 30_000 }, async () => {
    const mark = emulatorMark(sw.world);
    const r = await request(sw.world, { path: PODS, token: bob });
    assert.equal(r.status, 200, r.body);
    const seen = emulatorSince(sw.world, mark);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.user?.username, 'bob');
    assert.equal(seen[0]!.headers.authorization, `Bearer sha256:${sw.gatewayTokenSha256}`, 'upstream credential is the gateway service account');
    assert.notEqual(seen[0]!.headers.authorization, `Bearer sha256:${sha256(bob)}`, 'the user token went upstream');
  });

  test('no token: 401 Status with WWW-Authenticate, nothing upstream, audited without principal', { timeout: 15_000 }, async () => {
    const mark = emulatorMark(sw.world);
    const r = await request(sw.world, { path: PODS });
    assert.equal(r.status, 401);
    assertStatus(r.json, 401, 'Unauthorized');
    assert.equal(r.headers['www-authenticate'], 'Bearer realm="sluice"');
    assert.deepEqual(emulatorSince(sw.world, mark), []);
    const rec = await auditRecord(sw.world, r.requestId);
    assert.equal(rec.principal, null);
    assert.equal(rec.error?.code, 'AUTHN_MISSING');
    assert.equal(rec.outcome?.status, 401);
  });

  test('another scheme (Basic) is no token: 401', { timeout: 15_000 }, async () => {
    const mark = emulatorMark(sw.world);
    const r = await request(sw.world, { path: PODS, headers: { authorization: `Basic ${Buffer.from('alice:sluice-demo').toString('base64')}` } });
    assert.equal(r.status, 401);
    assertStatus(r.json, 401, 'Unauthorized');
    assert.deepEqual(emulatorSince(sw.world, mark), []);
  });

  test('JWT with alg "none" (bob\'s claims, upgraded to group sre): 401', { timeout: 15_000 }, async () => {
    const forged = new UnsecuredJWT({ ...claims, groups: ['sre'] }).encode();
    assert.equal(decodeProtectedHeader(forged).alg, 'none');
    await expectUnauthorized(forged, 'alg none');
    // Also with the real token's kid and typ in the header, and an empty signature part.
    const header = Buffer.from(JSON.stringify({ alg: 'none', kid, typ })).toString('base64url');
    const body = Buffer.from(JSON.stringify({ ...claims, groups: ['sre'] })).toString('base64url');
    await expectUnauthorized(`${header}.${body}.`, 'alg none with kid');
  });

  test('HS256 signed with the issuer\'s public key as HMAC secret (PEM and JWK forms): 401', { timeout: 15_000 }, async () => {
    const { pem, jwk } = await issuerPublicKeyPem();
    for (const [form, secret] of [
      ['PEM', pem],
      ['JWK JSON', JSON.stringify(jwk)],
    ] as const) {
      const forged = await new SignJWT({ ...claims, groups: ['sre'] })
        .setProtectedHeader({ alg: 'HS256', ...(kid ? { kid } : {}), ...(typ ? { typ } : {}) })
        .sign(new TextEncoder().encode(secret));
      await expectUnauthorized(forged, `HS256 with the public key (${form})`);
    }
  });

  test('attacker key named in the header (jwk, jku, x5u) is never used: 401', { timeout: 20_000 }, async () => {
    const { privateKey, jwk } = attackerKey();
    const payload = { ...claims, sub: 'alice', groups: ['sre'] };
    const headers: Record<string, unknown>[] = [
      { jwk },
      { jku: 'https://127.0.0.1:1/jwks.json' },
      { x5u: 'https://127.0.0.1:1/cert.pem' },
      { jwk, kid: 'attacker' },
    ];
    for (const extra of headers) {
      const forged = await new SignJWT(payload)
        .setProtectedHeader({ alg: 'RS256', ...(kid ? { kid } : {}), ...(typ ? { typ } : {}), ...extra })
        .sign(privateKey);
      await expectUnauthorized(forged, `header ${Object.keys(extra).join('+')}`);
    }
  });

  test('expired token (signed with a key that is not the issuer\'s, with the issuer\'s kid): 401', { timeout: 15_000 }, async () => {
    const { privateKey } = attackerKey();
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ ...claims, iat: now - 7200, exp: now - 3600 })
      .setProtectedHeader({ alg: 'RS256', ...(kid ? { kid } : {}), ...(typ ? { typ } : {}) })
      .sign(privateKey);
    await expectUnauthorized(forged, 'expired');
  });

  test('tampered claims on a real signature (bob rewritten to alice, groups sre): 401', { timeout: 15_000 }, async () => {
    const [h, , s] = bob.split('.');
    const body = Buffer.from(JSON.stringify({ ...claims, sub: 'alice', groups: ['sre', 'approvers'] })).toString('base64url');
    await expectUnauthorized(`${h}.${body}.${s}`, 'tampered payload');
  });

  test('token for another audience from the same issuer: 401', { timeout: 30_000 }, async () => {
    const other = await sw.world.idp.tokenFor('bob', { audience: 'other' });
    assert.notDeepEqual(decodeJwt(other).aud, claims.aud, 'the provider issued the audience asked for');
    const r = await expectUnauthorized(other, 'audience other');
    assert.match(String(r.json?.message), /audience/);
  });

  test('wrong issuer: a validly signed token from an identity provider the gateway does not trust: 401', { timeout: 60_000 }, async () => {
    const rogue = await startIdentityProvider({ ca: sw.world.ca, host: '127.0.0.1' });
    try {
      const foreign = await rogue.tokenFor('alice');
      assert.equal(decodeJwt(foreign).sub, 'alice');
      assert.notEqual(decodeJwt(foreign).iss, claims.iss);
      await expectUnauthorized(foreign, 'foreign issuer');
      // Same token, but claiming the trusted issuer: the signature is not the trusted issuer's.
      const { privateKey } = attackerKey();
      const spoofed = await new SignJWT({ ...decodeJwt(foreign), iss: claims.iss })
        .setProtectedHeader({ alg: 'RS256', ...(kid ? { kid } : {}), ...(typ ? { typ } : {}) })
        .sign(privateKey);
      await expectUnauthorized(spoofed, 'spoofed iss');
    } finally {
      await rogue.close();
    }
  });

  test('an OIDC ID token (not typed at+jwt) is not an access token here: 401', { timeout: 30_000 }, async () => {
    const set = await sw.world.idp.tokensFor('bob');
    assert.ok(set.idToken, 'the provider issues ID tokens');
    await expectUnauthorized(set.idToken, 'ID token');
  });

  test('malformed bearer values: 401 and never echoed', { timeout: 15_000 }, async () => {
    for (const value of ['not.a.jwt', 'eyJhbGciOiJSUzI1NiJ9.e30.', 'a'.repeat(40) + '!!']) {
      const mark = emulatorMark(sw.world);
      const r = await request(sw.world, { path: PODS, headers: { authorization: `Bearer ${value}` } });
      assert.equal(r.status, 401, `${value}: ${r.body}`);
      assertStatus(r.json, 401, 'Unauthorized', value);
      assert.ok(!r.body.includes(value), 'the value is echoed');
      assert.deepEqual(emulatorSince(sw.world, mark), []);
    }
  });

  test('two Authorization headers (a valid one and a forged one, either order): 400 before any decision', { timeout: 20_000 }, async () => {
    const alice = await sw.token('alice');
    const forged = new UnsecuredJWT({ ...claims, groups: ['sre'] }).encode();
    sent.push(forged);
    for (const [first, second, name2] of [
      [bob, alice, 'Authorization'],
      [forged, bob, 'authorization'],
      [bob, bob, 'AUTHORIZATION'],
    ] as const) {
      const mark = emulatorMark(sw.world);
      const since = new Date();
      const x = await rawExchange(sw.world, {
        bytes: rawRequest('GET', PODS, [
          ['Authorization', `Bearer ${first}`],
          [name2, `Bearer ${second}`],
          ['Connection', 'close'],
        ]),
      });
      assert.deepEqual(statusLines(x.text), [400], x.text.slice(0, 200));
      assertStatus(firstJsonBody(x.text), 400, 'BadRequest', 'two Authorization headers');
      assert.ok(!x.text.includes(first) && !x.text.includes(second), 'a token is echoed');
      assert.deepEqual(emulatorSince(sw.world, mark), [], 'the request reached the cluster');
      const recs = await auditSince(sw.world, since, (r) => r.error?.code === 'AUTHN_BAD_REQUEST');
      assert.equal(recs.length, 1, 'one audit record');
      assert.equal(recs[0]!.principal, null);
      assert.equal(recs[0]!.outcome?.status, 400);
    }
  });

  test('token in the query string (?access_token=), alone or beside a valid header: 400, and not stored', { timeout: 20_000 }, async () => {
    for (const withHeader of [false, true]) {
      const mark = emulatorMark(sw.world);
      const r = await request(sw.world, { path: `${PODS}?access_token=${bob}`, ...(withHeader ? { token: bob } : {}) });
      assert.equal(r.status, 400, r.body);
      assertStatus(r.json, 400, 'BadRequest');
      assert.match(String(r.json?.message), /query string/);
      assert.ok(!r.body.includes(bob), 'the token is echoed');
      assert.deepEqual(emulatorSince(sw.world, mark), []);
      const rec = await auditRecord(sw.world, r.requestId);
      assert.equal(rec.principal, null);
      assert.equal(rec.error?.code, 'AUTHN_BAD_REQUEST');
      assert.ok(!JSON.stringify(rec).includes(bob), `the token is in the audit record: ${rec.query}`);
    }
  });

  test('no groups claim (mallory): authenticated, but default deny', { timeout: 30_000 }, async () => {
    const mallory = await sw.token('mallory');
    const mark = emulatorMark(sw.world);
    const r = await request(sw.world, { path: PODS, token: mallory });
    assert.equal(r.status, 403, r.body);
    assertStatus(r.json, 403, 'Forbidden');
    assert.deepEqual(emulatorSince(sw.world, mark), []);
    const rec = await auditRecord(sw.world, r.requestId);
    assert.equal(rec.principal?.username, 'mallory');
    assert.deepEqual(rec.principal?.groups, []);
    assert.equal(rec.decision?.effect, 'deny');
    assert.deepEqual(rec.decision?.rules, []);
  });

  test('/metrics and other unknown endpoints do not answer without authentication', { timeout: 15_000 }, async () => {
    for (const path of ['/metrics', '/debug/pprof/', '/whoami', '/clusters/demo/metrics']) {
      const r = await request(sw.world, { path });
      assert.ok(r.status === 401 || r.status === 404, `${path}: ${r.status} ${r.body}`);
      assert.doesNotMatch(r.body, /# (HELP|TYPE) /, `${path} served metrics`);
    }
  });

  test('tokens never appear in the audit store or the cluster\'s request record', { timeout: 60_000 }, async () => {
    const real = await allTokens(sw, ['alice', 'bob', 'mallory']);
    const records = await allAuditRecords(sw.world);
    assert.ok(records.length >= 10, `only ${records.length} audit records`);
    for (const rec of records) {
      const text = JSON.stringify(rec);
      for (const t of [...real, ...sent]) assert.ok(!text.includes(t), `a token in audit record ${rec.id} (${rec.method} ${rec.path})`);
      // The signature part alone (the part an attacker cannot recompute) never either.
      for (const t of real) assert.ok(!text.includes(t.split('.')[2]!), `a token signature in audit record ${rec.id}`);
      assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{10,}/, `something JWT-like in audit record ${rec.id}`);
    }
    const userHashes = new Set([...real, ...sent].map((t) => `Bearer sha256:${sha256(t)}`));
    assert.ok(sw.world.emulator.requests.length > 0);
    for (const q of sw.world.emulator.requests) {
      assert.equal(q.headers.authorization, `Bearer sha256:${sw.gatewayTokenSha256}`, `${q.method} ${q.url}`);
      assert.ok(!userHashes.has(String(q.headers.authorization)));
      assert.doesNotMatch(JSON.stringify(q.headers), JWT_PATTERN, `a JWT in the headers of ${q.method} ${q.url}`);
    }
  });
});
