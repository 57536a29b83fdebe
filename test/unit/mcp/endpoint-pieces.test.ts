/**
 * The MCP endpoint's small pure parts: the protected resource metadata and its 401 challenge
 * (RFC 9728), the Origin/Host check against DNS rebinding, and the masking of recorded tool
 * arguments.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { originPolicy, originRefusal } from '../../../src/protocols/mcp/check-origin.ts';
import { bearerChallenge, protectedResource } from '../../../src/protocols/mcp/protected-resource.ts';
import { maskArguments } from '../../../src/protocols/mcp/mask-arguments.ts';
import { createMasking } from '../../../src/masking/create-masking.ts';
import { MaskingSchema } from '../../../src/config/schema.ts';

test('protected resource metadata sits at the path-inserted well-known URI and names the authorization servers', () => {
  const pr = protectedResource('https://sluice.example.com:8443/mcp', ['https://idp.example.com'], ['openid', 'groups']);
  assert.equal(pr.metadataUrl, 'https://sluice.example.com:8443/.well-known/oauth-protected-resource/mcp');
  assert.deepEqual(pr.metadataPaths, ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']);
  assert.equal(pr.document.resource, 'https://sluice.example.com:8443/mcp');
  assert.deepEqual(pr.document.authorization_servers, ['https://idp.example.com']);
  assert.deepEqual(pr.document.bearer_methods_supported, ['header']);
});

test('the 401 challenge points at the metadata; an invalid token adds error="invalid_token" without quotes leaking', () => {
  const pr = protectedResource('https://s.example/mcp', ['https://idp'], ['openid']);
  assert.equal(bearerChallenge(pr, ['openid']), 'Bearer resource_metadata="https://s.example/.well-known/oauth-protected-resource/mcp", scope="openid"');
  const c = bearerChallenge(pr, ['openid'], { error: 'invalid_token', description: 'token "aud" is wrong' });
  assert.match(c, /error="invalid_token", error_description="token aud is wrong"$/);
});

test('Origin and Host: own and allowed ones pass, others (DNS rebinding) are refused', () => {
  const p = originPolicy({ resource: 'https://sluice.example.com/mcp', listenerUrl: 'https://127.0.0.1:6443', loopback: true, port: 6443, allowedOrigins: ['https://console.example.com'], allowedHosts: [] });
  assert.equal(originRefusal(p, 'sluice.example.com', undefined), undefined);
  assert.equal(originRefusal(p, '127.0.0.1:6443', undefined), undefined);
  assert.equal(originRefusal(p, 'localhost:6443', 'https://console.example.com'), undefined);
  assert.match(originRefusal(p, 'evil.example:6443', undefined)!, /Host/);
  assert.match(originRefusal(p, 'localhost:6443', 'https://evil.example')!, /Origin/);
  assert.match(originRefusal(p, 'localhost:6443', 'null')!, /Origin/);
  assert.match(originRefusal(p, undefined, undefined)!, /Host/);
  const remote = originPolicy({ resource: 'https://sluice.example.com/mcp', listenerUrl: 'https://10.0.0.5:6443', loopback: false, port: 6443, allowedOrigins: [], allowedHosts: [] });
  assert.match(originRefusal(remote, 'localhost:6443', undefined)!, /Host/, 'loopback names only for a loopback listener');
});

test('recorded arguments: a Secret manifest, a patch of a Secret and tokens in strings are masked', () => {
  const masking = createMasking(MaskingSchema.parse({}));
  const manifest = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: hunter2-very-secret\n';
  const out = JSON.stringify(maskArguments({ manifest, dryRun: false }, masking));
  assert.ok(!out.includes('hunter2-very-secret'), out);
  assert.match(out, /name/);
  const patched = JSON.stringify(maskArguments({ resource: 'secrets', name: 's', patch: { data: { k: 'c2VjcmV0LXZhbHVl' } } }, masking));
  assert.ok(!patched.includes('c2VjcmV0LXZhbHVl'), patched);
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
  const cmd = JSON.stringify(maskArguments({ command: ['curl', '-H', `Authorization: Bearer ${jwt}`] }, masking));
  assert.ok(!cmd.includes(jwt), cmd);
  assert.deepEqual(maskArguments({ resource: 'pods', namespace: 'dev' }, masking), { resource: 'pods', namespace: 'dev' });
});
