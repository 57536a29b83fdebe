/**
 * A second, minimal OpenID issuer for the authn tests: node:https on loopback with a dev CA,
 * serving `/.well-known/openid-configuration` and a JWKS of a key this test process generated,
 * so tests can sign tokens "from the issuer" with any claims (expired, wrong audience, …).
 * Not a stand-in for the real provider (testing/oidc): a legitimate issuer the tests own.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { createLoopbackTls } from '../../../src/tls/dev-ca.ts';

export interface LocalIssuer {
  issuer: string;
  /** PEM of the CA that signed the server certificate, and a file holding it. */
  caCert: string;
  caFile: string;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** What the server does; tests flip these. */
  mode: { discovery: 'ok' | 'error' | 'wrong-issuer'; jwks: 'ok' | 'error' };
  hits: { discovery: number; jwks: number };
  /** Sign a token: iss, aud `sluice`, sub `dave`, iat now, exp in 10 minutes, typ at+jwt; `undefined` removes a claim. */
  sign(claims?: Record<string, unknown>, header?: Partial<JWTHeaderParameters>, key?: CryptoKey): Promise<string>;
  close(): Promise<void>;
}

export async function startLocalIssuer(opts: { audience?: string } = {}): Promise<LocalIssuer> {
  const { ca, server: tls } = await createLoopbackTls();
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `local-${Math.random().toString(36).slice(2, 10)}`;
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const dir = mkdtempSync(join(tmpdir(), 'sluice-authn-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.cert);

  const mode: LocalIssuer['mode'] = { discovery: 'ok', jwks: 'ok' };
  const hits = { discovery: 0, jwks: 0 };
  let issuer = '';
  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/openid-configuration') {
      hits.discovery++;
      if (mode.discovery === 'error') return send(500, { error: 'down' });
      return send(200, {
        issuer: mode.discovery === 'wrong-issuer' ? 'https://evil.example' : issuer,
        jwks_uri: `${issuer}/jwks`,
        id_token_signing_alg_values_supported: ['ES256'],
      });
    }
    if (req.url === '/jwks') {
      hits.jwks++;
      if (mode.jwks === 'error') return send(500, { error: 'down' });
      return send(200, { keys: [publicJwk] });
    }
    send(404, {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const audience = opts.audience ?? 'sluice';

  return {
    issuer,
    caCert: ca.cert,
    caFile,
    kid,
    privateKey,
    publicJwk,
    mode,
    hits,
    async sign(claims = {}, header = {}, key = privateKey) {
      const nowS = Math.floor(Date.now() / 1000);
      const all: Record<string, unknown> = { iss: issuer, aud: audience, sub: 'dave', iat: nowS, exp: nowS + 600, ...claims };
      for (const [k, v] of Object.entries(all)) if (v === undefined) delete all[k];
      return new SignJWT(all as JWTPayload).setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt', ...header } as JWTHeaderParameters).sign(key);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
