// The identity of a held request (src/approval/request-hash.ts): what makes two attempts "the
// same request" for an approval, and what does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { canonicalQuery, requestHash, sha256Hex, type HashedRequest } from '../../../src/approval/request-hash.ts';

const base: HashedRequest = {
  issuer: 'https://idp.example',
  subject: 'sub-alice',
  connection: 'demo',
  method: 'DELETE',
  path: '/api/v1/namespaces/prod/pods/web-1',
  query: 'gracePeriodSeconds=0&dryRun=All',
};
const h = (over: Partial<HashedRequest> = {}): string => requestHash({ ...base, ...over });

test('sha256Hex is the hex SHA-256 of the exact bytes', () => {
  assert.equal(sha256Hex(''), createHash('sha256').update('').digest('hex'));
  assert.equal(sha256Hex(Buffer.from('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(sha256Hex('abc'), sha256Hex(Buffer.from('abc')));
});

test('canonicalQuery sorts the parameters, drops access_token, and keeps the rest verbatim', () => {
  assert.equal(canonicalQuery(''), '');
  assert.equal(canonicalQuery('?'), '');
  assert.equal(canonicalQuery('b=2&a=1&c=3'), 'a=1&b=2&c=3');
  assert.equal(canonicalQuery('?b=2&a=1'), 'a=1&b=2', 'a leading ? is ignored');
  assert.equal(canonicalQuery('a=1&access_token=eyJx.eyJy.z&b=2'), 'a=1&b=2');
  assert.equal(canonicalQuery('ACCESS_TOKEN=x&a=1'), 'a=1', 'any case');
  assert.equal(canonicalQuery('access%5Ftoken=x&a=1'), 'a=1', 'even percent-encoded');
  assert.equal(canonicalQuery('access_token=x'), '');
  assert.equal(canonicalQuery('labelSelector=app%3Dweb&a=1'), 'a=1&labelSelector=app%3Dweb', 'values are not decoded');
});

test('the order of query parameters does not matter', () => {
  assert.equal(h({ query: 'dryRun=All&gracePeriodSeconds=0' }), h());
  assert.equal(h({ query: '?gracePeriodSeconds=0&dryRun=All' }), h());
  assert.equal(h({ query: 'b=1&a=2&c=3' }), h({ query: 'c=3&a=2&b=1' }));
});

test('an access_token in the query does not change the hash (it is a credential, not the request)', () => {
  assert.equal(h({ query: `${base.query}&access_token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln` }), h());
  assert.equal(h({ query: `access_token=one&${base.query}` }), h({ query: `${base.query}&access_token=two` }));
});

test('the method is compared without case', () => {
  assert.equal(h({ method: 'delete' }), h({ method: 'DELETE' }));
  assert.notEqual(h({ method: 'GET' }), h());
});

test('the body bytes matter; no body equals an empty body', () => {
  const body = Buffer.from('{"kind":"DeleteOptions","propagationPolicy":"Foreground"}');
  assert.notEqual(h({ body }), h());
  assert.equal(h({ body: Buffer.from(body) }), h({ body }), 'same bytes, same hash');
  assert.notEqual(h({ body: Buffer.from('{"propagationPolicy":"Foreground","kind":"DeleteOptions"}') }), h({ body }), 'semantically equal JSON is still other bytes');
  assert.notEqual(h({ body: Buffer.from(`${body.toString()} `) }), h({ body }), 'one more byte');
  assert.equal(h({ body: Buffer.alloc(0) }), h());
});

test('every other field matters: person, issuer, connection, path, query values', () => {
  const seen = new Set([h()]);
  for (const over of [
    { subject: 'sub-bob' },
    { issuer: 'https://other.example' },
    { connection: 'prod' },
    { path: '/api/v1/namespaces/prod/pods/db-0' },
    { path: '/api/v1/namespaces/dev/pods/web-1' },
    { query: 'gracePeriodSeconds=30&dryRun=All' },
    { query: 'gracePeriodSeconds=0' },
    { query: '' },
  ]) {
    const x = h(over);
    assert.ok(!seen.has(x), `${JSON.stringify(over)} must give another hash`);
    seen.add(x);
  }
});

test('fields cannot run into each other', () => {
  assert.notEqual(requestHash({ ...base, issuer: 'a', subject: 'bc' }), requestHash({ ...base, issuer: 'ab', subject: 'c' }));
  assert.notEqual(requestHash({ ...base, connection: 'x', path: '/y' }), requestHash({ ...base, connection: 'x/', path: 'y' }));
});

test('the hash is lower-case hex SHA-256', () => {
  assert.match(h(), /^[0-9a-f]{64}$/);
});

test('the media type of a body is part of the request: the same bytes as another patch type are another request', () => {
  const base = { issuer: 'https://idp', subject: 'bob', connection: 'demo', method: 'PATCH', path: '/api/v1/namespaces/prod/configmaps/app', query: '', body: Buffer.from('{"data":{"a":"b"}}') };
  const merge = requestHash({ ...base, contentType: 'application/merge-patch+json' });
  assert.equal(merge, requestHash({ ...base, contentType: 'application/merge-patch+json; charset=utf-8' }), 'parameters of the media type do not matter');
  assert.notEqual(merge, requestHash({ ...base, contentType: 'application/strategic-merge-patch+json' }));
});
