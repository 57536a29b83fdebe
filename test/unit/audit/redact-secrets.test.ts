import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactString, redactQuery } from '../../../src/audit/redact-secrets.ts';

test('redactQuery keeps every other parameter verbatim', () => {
  assert.equal(redactQuery(''), '');
  assert.equal(redactQuery('?access_token=a'), '');
  assert.equal(redactQuery('a=1&access_token=x&b=%2F&c'), 'a=1&b=%2F&c');
  assert.equal(redactQuery('Access_Token=x&access%5ftoken=y&access_token&a=1'), 'a=1');
  assert.equal(redactQuery('%E0%A4%A=1&access_token=x'), '%E0%A4%A=1', 'undecodable names are kept, not fatal');
  assert.equal(redactQuery('my_access_token=1'), 'my_access_token=[redacted]');
  assert.equal(redactQuery('watch=1&Password=hunter2&tokenName=x&limit=5'), 'watch=1&Password=[redacted]&tokenName=[redacted]&limit=5');
});

test('redactString removes JWT-shaped strings and bearer credentials only', () => {
  assert.equal(redactString('x eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.sig y'), 'x [redacted] y');
  assert.equal(redactString('authorization: bearer abcdefgh12345678'), 'authorization: bearer [redacted]');
  assert.equal(redactString('/api/v1/namespaces/dev/pods/web-1'), '/api/v1/namespaces/dev/pods/web-1');
  assert.equal(redactString('kubectl/v1.32.0 (linux/amd64)'), 'kubectl/v1.32.0 (linux/amd64)');
});
