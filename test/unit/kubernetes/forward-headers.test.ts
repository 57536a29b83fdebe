import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forwardHeaders } from '../../../src/protocols/kubernetes/forward-headers.ts';
import { jsonDepth } from '../../../src/protocols/kubernetes/pipeline/read-body.ts';

const raw = (...pairs: [string, string][]): string[] => pairs.flat();

test('client identity and routing headers never go upstream (impersonation from the client is stripped)', () => {
  const h = forwardHeaders(
    raw(
      ['Authorization', 'Bearer user-token'],
      ['Impersonate-User', 'system:admin'],
      ['impersonate-group', 'system:masters'],
      ['IMPERSONATE-EXTRA-scopes', 'x'],
      ['Impersonate-Uid', '0'],
      ['X-Forwarded-For', '1.2.3.4'],
      ['X-Forwarded-User', 'admin'],
      ['X-Remote-User', 'admin'],
      ['X-Remote-Group', 'system:masters'],
      ['Forwarded', 'for=1.2.3.4'],
      ['X-Request-Id', 'client-chosen'],
      ['Audit-ID', 'client-chosen'],
      ['Cookie', 'a=b'],
      ['Accept', 'application/json'],
    ),
    { requestId: 'rid-1', authorization: 'Bearer gateway-sa' },
  );
  assert.equal(h.authorization, 'Bearer gateway-sa');
  assert.equal(h.accept, 'application/json');
  assert.equal(h['audit-id'], 'rid-1');
  for (const k of Object.keys(h)) {
    assert.ok(!/^(impersonate-|x-forwarded-|x-remote-|forwarded$|x-request-id$|cookie$)/.test(k), `${k} was forwarded`);
  }
  assert.ok(!JSON.stringify(h).includes('user-token'));
  assert.ok(!JSON.stringify(h).includes('system:masters'));
});

test('the verified person is impersonated, with the request id as an extra', () => {
  const h = forwardHeaders(raw(['Accept', '*/*']), {
    requestId: 'rid-2',
    authorization: 'Bearer sa',
    impersonate: { username: 'bob', groups: ['developers', 'oncall'] },
  });
  assert.equal(h['impersonate-user'], 'bob');
  assert.deepEqual(h['impersonate-group'], ['developers', 'oncall']);
  assert.equal(h['impersonate-extra-sluice-request-id'], 'rid-2');
});

test('headers named in Connection and hop-by-hop headers are dropped; upgrades keep Upgrade', () => {
  const h = forwardHeaders(
    raw(['Connection', 'keep-alive, X-Secret-Hop'], ['X-Secret-Hop', 'v'], ['Keep-Alive', 'timeout=5'], ['TE', 'trailers'], ['Upgrade', 'h2c'], ['Host', 'evil']),
    { requestId: 'r' },
  );
  assert.deepEqual(Object.keys(h).sort(), ['audit-id']);
  const u = forwardHeaders(raw(['Connection', 'Upgrade'], ['Upgrade', 'websocket'], ['Sec-WebSocket-Protocol', 'v5.channel.k8s.io']), {
    requestId: 'r',
    upgrade: 'websocket',
  });
  assert.equal(u.connection, 'Upgrade');
  assert.equal(u.upgrade, 'websocket');
  assert.equal(u['sec-websocket-protocol'], 'v5.channel.k8s.io');
});

test('repeated headers stay repeated', () => {
  const h = forwardHeaders(raw(['Accept', 'a'], ['accept', 'b']), { requestId: 'r' });
  assert.deepEqual(h.accept, ['a', 'b']);
});

test('JSON nesting depth is measured without parsing, ignoring brackets inside strings', () => {
  assert.equal(jsonDepth(Buffer.from('{"a":[1,{"b":"[[[["}]}')), 3);
  assert.equal(jsonDepth(Buffer.from('"\\"{{{"')), 0);
  assert.equal(jsonDepth(Buffer.from('['.repeat(5000) + ']'.repeat(5000))), 5000);
});
