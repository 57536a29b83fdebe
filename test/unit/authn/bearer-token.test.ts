import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { extractBearerToken } from '../../../src/authn/bearer-token.ts';

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJkYXZlIn0.c2lnbmF0dXJl';

test('a single Authorization: Bearer header yields the token (scheme case-insensitive)', () => {
  assert.deepEqual(extractBearerToken(['Host', 'x', 'Authorization', `Bearer ${TOKEN}`], '/api/v1/pods'), { ok: true, value: TOKEN });
  assert.deepEqual(extractBearerToken(['authorization', `bearer   ${TOKEN}`], '/'), { ok: true, value: TOKEN });
});

test('no Authorization header is AUTHN_MISSING (401, no bearer error code per RFC 6750 §3.1)', () => {
  const r = extractBearerToken(['Host', 'x'], '/api');
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.error.code, 'AUTHN_MISSING');
  assert.equal(r.error.status, 401);
  assert.equal(r.error.bearerError, undefined);
});

test('a non-Bearer scheme or an empty token is AUTHN_MISSING, and a bare token is not echoed', () => {
  for (const value of ['Basic YWxpY2U6c2VjcmV0', 'Bearer', 'Bearer   ', TOKEN]) {
    const r = extractBearerToken(['Authorization', value], '/');
    assert.equal(r.ok, false, value);
    if (r.ok) continue;
    assert.equal(r.error.code, 'AUTHN_MISSING', value);
    assert.ok(!JSON.stringify(r.error).includes(TOKEN.slice(0, 20)), 'a bare token does not reach the error');
  }
});

test('a Bearer value that is not b64token syntax is AUTHN_INVALID', () => {
  const r = extractBearerToken(['Authorization', `Bearer ${TOKEN}, Bearer other`], '/');
  assert.equal(!r.ok && r.error.code, 'AUTHN_INVALID');
});

test('two Authorization headers are a 400, even when both are the same token', () => {
  for (const second of [`Bearer ${TOKEN}`, 'Bearer other.token.here']) {
    const r = extractBearerToken(['Authorization', `Bearer ${TOKEN}`, 'AUTHORIZATION', second], '/');
    assert.equal(r.ok, false);
    if (r.ok) continue;
    assert.equal(r.error.code, 'AUTHN_BAD_REQUEST');
    assert.equal(r.error.status, 400);
    assert.equal(r.error.bearerError, 'invalid_request');
    assert.ok(!JSON.stringify(r.error).includes(TOKEN));
  }
});

test('two Authorization headers on a real Node request: req.headers hides the second, rawHeaders does not', async () => {
  let seen: { headers: string | undefined; result: ReturnType<typeof extractBearerToken> } | undefined;
  const server = createServer((req, res) => {
    seen = { headers: req.headers.authorization, result: extractBearerToken(req.rawHeaders, req.url ?? '/') };
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  // A raw request: HTTP clients refuse to send the header twice, attackers do not.
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () =>
      socket.write(`GET /api HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nAuthorization: Bearer attacker\r\nConnection: close\r\n\r\n`),
    );
    socket.on('error', reject);
    socket.on('close', () => resolve());
    socket.resume();
  });
  server.close();
  assert.equal(seen?.headers, `Bearer ${TOKEN}`, 'Node keeps only the first in req.headers');
  const result = seen?.result;
  assert.equal(result && !result.ok && result.error.code, 'AUTHN_BAD_REQUEST');
});

test('access_token in the query string is a 400 even with a valid header, and the error does not repeat it', () => {
  for (const url of [`/api/v1/pods?access_token=${TOKEN}`, `/api?watch=1&access_token=${TOKEN}`]) {
    const r = extractBearerToken(['Authorization', `Bearer ${TOKEN}`], url);
    assert.equal(r.ok, false);
    if (r.ok) continue;
    assert.equal(r.error.code, 'AUTHN_BAD_REQUEST');
    assert.equal(r.error.status, 400);
    assert.ok(!r.error.message.includes(TOKEN) && !JSON.stringify(r.error.detail).includes(TOKEN));
  }
  assert.equal(extractBearerToken(['Authorization', `Bearer ${TOKEN}`], '/api?labelSelector=app%3Dx').ok, true);
});
