/**
 * SECURITY.md "HTTP framing": ambiguous message framing (request smuggling) is refused with 400
 * and the connection closed, by Node's strict parser, before any request reaches the pipeline or
 * the cluster. Also: the body of a refused request is never parsed as a further request, and
 * identity is per request, never per connection. Raw bytes over TLS, written by hand.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { emulatorMark, emulatorSince, rawExchange, rawRequest, startSecurityWorld, statusLines, type SecurityWorld } from './security-helpers.ts';

const CM = '/clusters/demo/api/v1/namespaces/dev/configmaps';
const SECRETS = '/clusters/demo/api/v1/namespaces/kube-system/secrets';

describe('SECURITY.md HTTP framing: request smuggling through the gateway', { timeout: 120_000 }, () => {
  let sw: SecurityWorld;
  let bob: string;
  let alice: string;

  before(async () => {
    sw = await startSecurityWorld('security-framing');
    [bob, alice] = await Promise.all([sw.token('bob'), sw.token('alice')]);
  });

  after(async () => {
    await sw?.stop();
  });

  const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'smuggled' } });
  /** A second request hidden where a lenient parser would see one. */
  const hidden = `GET ${SECRETS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ALICE\r\n\r\n`;

  const CASES: { what: string; bytes: (token: string) => string }[] = [
    {
      what: 'Content-Length together with Transfer-Encoding: chunked',
      bytes: (t) => rawRequest('POST', CM, [['Authorization', `Bearer ${t}`], ['Content-Type', 'application/json'], ['Content-Length', '4'], ['Transfer-Encoding', 'chunked']], `0\r\n\r\n${hidden}`),
    },
    {
      what: 'Transfer-Encoding: chunked together with Content-Length (other order)',
      bytes: (t) => rawRequest('POST', CM, [['Authorization', `Bearer ${t}`], ['Transfer-Encoding', 'chunked'], ['Content-Length', String(body.length)]], `0\r\n\r\n${hidden}`),
    },
    {
      what: 'duplicate Content-Length with different values',
      bytes: (t) => rawRequest('POST', CM, [['Authorization', `Bearer ${t}`], ['Content-Type', 'application/json'], ['Content-Length', String(body.length)], ['Content-Length', '0']], body),
    },
    {
      what: 'Content-Length as a list of different values',
      bytes: (t) => rawRequest('POST', CM, [['Authorization', `Bearer ${t}`], ['Content-Length', `${body.length}, 0`]], body),
    },
    { what: 'Transfer-Encoding: xchunked', bytes: (t) => rawRequest('POST', CM, [['Authorization', `Bearer ${t}`], ['Transfer-Encoding', 'xchunked']], `0\r\n\r\n${hidden}`) },
    { what: 'Transfer-Encoding: chunked, identity (chunked not last)', bytes: (t) => rawRequest('POST', CM, [['Authorization', `Bearer ${t}`], ['Transfer-Encoding', 'chunked, identity']], `0\r\n\r\n${hidden}`) },
    { what: 'Transfer-Encoding: gzip (no chunked)', bytes: (t) => rawRequest('POST', CM, [['Authorization', `Bearer ${t}`], ['Transfer-Encoding', 'gzip']], `0\r\n\r\n${hidden}`) },
    {
      what: 'space before the colon of Transfer-Encoding',
      bytes: (t) => `POST ${CM} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t}\r\nContent-Length: 5\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n${hidden}`,
    },
    { what: 'vertical tab before chunked', bytes: (t) => rawRequest('POST', CM, [['Authorization', `Bearer ${t}`], ['Transfer-Encoding', '\x0bchunked']], `0\r\n\r\n${hidden}`) },
    { what: 'malformed chunk size', bytes: (t) => rawRequest('POST', CM, [['Authorization', `Bearer ${t}`], ['Transfer-Encoding', 'chunked']], `zz\r\n${body}\r\n0\r\n\r\n`) },
    { what: 'obs-fold continuation line', bytes: (t) => `GET ${SECRETS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t}\r\nX-A: a\r\n Authorization: Bearer x\r\n\r\n` },
    { what: 'bare LF line endings', bytes: (t) => `GET ${CM} HTTP/1.1\nHost: x\nAuthorization: Bearer ${t}\n\n` },
  ];

  for (const c of CASES) {
    test(`${c.what} → 400 and close, nothing reaches the cluster`, { timeout: 15_000 }, async () => {
      const mark = emulatorMark(sw.world);
      const x = await rawExchange(sw.world, { bytes: c.bytes(bob).replace('Bearer ALICE', `Bearer ${alice}`), timeoutMs: 5_000 });
      assert.deepEqual(statusLines(x.text), [400], x.text.slice(0, 300));
      assert.match(x.text, /\r\nconnection: close\r\n/i);
      assert.ok(x.closed, 'the connection was left open');
      assert.deepEqual(emulatorSince(sw.world, mark).map((q) => `${q.method} ${q.url}`), []);
    });
  }

  test('the body of a refused request (no token) is drained, never parsed as a second request', { timeout: 15_000 }, async () => {
    const smuggled = `GET ${SECRETS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${alice}\r\n\r\n`;
    const mark = emulatorMark(sw.world);
    const x = await rawExchange(sw.world, {
      bytes: rawRequest('POST', CM, [['Content-Type', 'text/plain'], ['Content-Length', String(smuggled.length)]], smuggled),
      timeoutMs: 2_000,
    });
    assert.deepEqual(statusLines(x.text), [401], x.text.slice(0, 300));
    assert.deepEqual(emulatorSince(sw.world, mark).map((q) => `${q.method} ${q.url}`), []);
  });

  test('identity is per request: a second request on bob\'s kept-alive connection without a token → 401', { timeout: 15_000 }, async () => {
    const mark = emulatorMark(sw.world);
    const first = rawRequest('GET', '/clusters/demo/api/v1/namespaces/dev/pods', [['Authorization', `Bearer ${bob}`]]);
    const second = rawRequest('GET', '/clusters/demo/api/v1/namespaces/dev/secrets', [['Connection', 'close']]);
    const x = await rawExchange(sw.world, { bytes: first, after: second, timeoutMs: 5_000 });
    assert.deepEqual(statusLines(x.text), [200, 401], x.text.slice(0, 300));
    assert.deepEqual(emulatorSince(sw.world, mark).map((q) => q.url), ['/api/v1/namespaces/dev/pods']);
  });

  test('identity is per request: a pipelined second request without a token → 401, never executed as bob', { timeout: 15_000 }, async () => {
    const mark = emulatorMark(sw.world);
    const first = rawRequest('GET', '/clusters/demo/api/v1/namespaces/dev/pods', [['Authorization', `Bearer ${bob}`]]);
    const second = rawRequest('GET', '/clusters/demo/api/v1/namespaces/dev/secrets', [['Connection', 'close']]);
    const x = await rawExchange(sw.world, { bytes: first + second, timeoutMs: 5_000 });
    assert.deepEqual(statusLines(x.text), [200, 401], x.text.slice(0, 300));
    assert.deepEqual(emulatorSince(sw.world, mark).map((q) => q.url), ['/api/v1/namespaces/dev/pods']);
  });

  test('framing errors are recorded in the audit trail (DESIGN.md: bad input is recorded)', { timeout: 15_000 }, async () => {
    const since = new Date();
    await rawExchange(sw.world, { bytes: CASES[0]!.bytes(bob), timeoutMs: 3_000 });
    let records: Awaited<ReturnType<typeof sw.world.store.list>>['records'] = [];
    for (let i = 0; i < 50 && records.length === 0; i++) {
      records = (await sw.world.store.list({ since, code: 'http.malformed', limit: 100 })).records;
      if (records.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(records.length, 1, 'one audit record for the smuggling attempt');
    assert.equal(records[0]!.principal, null);
    assert.equal(records[0]!.error?.code, 'REQUEST_INVALID');
    assert.match(records[0]!.error?.message ?? '', /HPE_/);
  });
});
