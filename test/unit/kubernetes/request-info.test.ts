// parseRequestInfo against a table of cases (request-info.cases.json), mirroring the API
// server's RequestInfoFactory, and the emulator's canonical-path rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { canonicalPathError, parseFieldSelector, parseRequestInfo } from '../../../src/protocols/kubernetes/request-info.ts';
import { StatusError } from '../../../testing/kube-emulator/status.ts';

interface Case {
  name: string;
  method: string;
  url: string;
  expect?: Record<string, unknown>;
  error?: number;
}
const data = JSON.parse(readFileSync(new URL('./request-info.cases.json', import.meta.url), 'utf8')) as {
  cases: Case[];
  canonical: { url: string; ok: boolean }[];
};

test('the case table is substantial', () => {
  assert.ok(data.cases.length >= 60, `only ${data.cases.length} cases`);
});

for (const c of data.cases) {
  test(`${c.method} ${c.url}: ${c.name}`, () => {
    if (c.error !== undefined) {
      assert.throws(
        () => parseRequestInfo(c.method, c.url),
        (e: unknown) => e instanceof StatusError && e.status.code === c.error,
      );
      return;
    }
    const info = parseRequestInfo(c.method, c.url);
    for (const [k, v] of Object.entries(c.expect ?? {})) {
      assert.deepEqual((info as unknown as Record<string, unknown>)[k], v, `field ${k}`);
    }
  });
}

for (const c of data.canonical) {
  test(`canonical path ${JSON.stringify(c.url)} → ${c.ok ? 'accepted' : '400'}`, () => {
    const err = canonicalPathError(c.url);
    if (c.ok) assert.equal(err, undefined);
    else {
      assert.ok(err, 'expected an error');
      assert.equal(err.status.code, 400);
      assert.equal(err.status.reason, 'BadRequest');
    }
  });
}

test('the 500 for /api/v1/watch carries the real message', () => {
  try {
    parseRequestInfo('GET', '/api/v1/watch');
    assert.fail('no error');
  } catch (e) {
    assert.ok(e instanceof StatusError);
    assert.equal(e.status.message, 'Internal error occurred: failed to create RequestInfo: unable to determine kind and namespace from url, /api/v1/watch');
  }
});

test('parseFieldSelector handles operators and escapes, rejects garbage', () => {
  assert.deepEqual(parseFieldSelector('a=b,c!=d,e==f'), [
    { field: 'a', operator: '=', value: 'b' },
    { field: 'c', operator: '!=', value: 'd' },
    { field: 'e', operator: '==', value: 'f' },
  ]);
  assert.deepEqual(parseFieldSelector('a=x\\=y'), [{ field: 'a', operator: '=', value: 'x=y' }]);
  assert.deepEqual(parseFieldSelector(''), []);
  assert.throws(() => parseFieldSelector('nooperator'));
  assert.throws(() => parseFieldSelector('=b'));
});

test('query is exposed parsed', () => {
  const info = parseRequestInfo('GET', '/api/v1/namespaces/d/pods/p/log?container=c&follow=true');
  assert.equal(info.query.get('container'), 'c');
  assert.equal(info.query.get('follow'), 'true');
});
