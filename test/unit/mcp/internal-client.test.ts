/**
 * The in-process Kubernetes client: real HTTP/1.1 (and a WebSocket upgrade for exec) over an
 * in-memory connection into a Kubernetes handler, the caller bound to the connection. Here the
 * handler is a small stand-in that shows what arrived; the e2e tests run the real pipeline.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { test } from 'node:test';
import { WebSocketServer } from 'ws';
import type { KubernetesHandler } from '../../../src/protocols/kubernetes/handler.ts';
import { createInternalKubeClient } from '../../../src/protocols/kubernetes/internal-client.ts';
import type { InternalCaller } from '../../../src/protocols/kubernetes/pipeline/context.ts';
import type { VerifiedPrincipal } from '../../../src/authn/principal-from-claims.ts';

const principal = { issuer: 'https://idp', subject: 'bob', username: 'bob', groups: ['developers'], kind: 'person', expiresAt: new Date(Date.now() + 60_000), tokenType: 'access_token' } as VerifiedPrincipal;
const caller = (): InternalCaller => ({ principal, sourceIp: '192.0.2.7', via: { protocol: 'test' } });

const wss = new WebSocketServer({ noServer: true });
const seen: { caller?: InternalCaller; closed?: boolean }[] = [];
const handler: KubernetesHandler = {
  handleRequest(req: IncomingMessage, res: ServerResponse, c?: InternalCaller) {
    seen.push({ caller: c });
    c?.onStart?.('req-1');
    if (req.url?.includes('/hang')) {
      req.socket.on('close', () => (seen.at(-1)!.closed = true));
      return;
    }
    if (req.url?.includes('/denied')) {
      c?.onRefused?.('POLICY_DENIED', 'req-1');
      res.writeHead(403, { 'content-type': 'application/json' }).end('{"kind":"Status","message":"no"}');
      return;
    }
    let body = '';
    req.on('data', (d: Buffer) => (body += String(d)));
    req.on('end', () => {
      res.setHeader('x-sluice-request-id', 'req-1');
      res.end(JSON.stringify({ method: req.method, url: req.url, body, type: req.headers['content-type'], big: req.url?.includes('/big') ? 'x'.repeat(10_000) : '' }));
    });
  },
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, c?: InternalCaller) {
    c?.onStart?.('req-2');
    if (req.url?.includes('forbidden')) {
      c?.onRefused?.('POLICY_DENIED', 'req-2');
      const body = '{"kind":"Status","code":403}';
      socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      assert.equal(ws.protocol, 'v5.channel.k8s.io');
      const u = new URL(req.url!, 'http://x');
      const frame = (ch: number, s: string): Buffer => Buffer.concat([Buffer.from([ch]), Buffer.from(s)]);
      if (u.searchParams.get('command') === 'sleep') return; // never answers: the time limit ends it
      ws.send(frame(1, `ran ${u.searchParams.getAll('command').join(' ')}\n`));
      ws.send(frame(2, 'a warning\n'));
      ws.send(frame(3, '{"kind":"Status","status":"Success"}'));
      ws.close();
    });
  },
};
const client = createInternalKubeClient(handler);

test('a request carries method, path, body and the caller; the answer, its request id and size bound come back', async () => {
  const a = await client.request(caller(), { method: 'POST', url: '/clusters/demo/api/v1/namespaces/dev/pods', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
  assert.equal(a.status, 200);
  assert.equal(a.requestId, 'req-1');
  assert.deepEqual(JSON.parse(a.body.toString()), { method: 'POST', url: '/clusters/demo/api/v1/namespaces/dev/pods', body: '{"a":1}', type: 'application/json', big: '' });
  assert.equal(seen.at(-1)!.caller!.principal.username, 'bob');
  assert.equal(seen.at(-1)!.caller!.sourceIp, '192.0.2.7');
  const big = await client.request(caller(), { method: 'GET', url: '/big' }, { maxBytes: 100 });
  assert.equal(big.truncated, true);
  assert.equal(big.body.length, 100);
});

test("a refusal reports Sluice's error code", async () => {
  const a = await client.request(caller(), { method: 'GET', url: '/denied' });
  assert.equal(a.status, 403);
  assert.equal(a.sluiceError, 'POLICY_DENIED');
});

test('aborting the call closes the connection: the handler sees its client go away', async () => {
  const ac = new AbortController();
  const n = seen.length;
  const p = client.request(caller(), { method: 'GET', url: '/hang' }, { signal: ac.signal });
  for (let i = 0; i < 100 && seen.length === n; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(seen.length, n + 1, 'the request reached the handler');
  ac.abort();
  await assert.rejects(p);
  for (let i = 0; i < 100 && !seen[n]!.closed; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(seen[n]!.closed, true);
});

test('exec over a WebSocket upgrade: stdout, stderr and the exit Status; a refused upgrade; a time limit', async () => {
  const ok = await client.exec(caller(), { url: '/clusters/demo/api/v1/namespaces/dev/pods/p/exec?command=echo&command=hi', timeoutMs: 5000 });
  assert.equal(ok.status, 101);
  assert.equal(ok.stdout.toString(), 'ran echo hi\n');
  assert.equal(ok.stderr.toString(), 'a warning\n');
  assert.deepEqual(ok.exitStatus, { kind: 'Status', status: 'Success' });
  assert.equal(ok.timedOut, false);
  const no = await client.exec(caller(), { url: '/forbidden', timeoutMs: 5000 });
  assert.equal(no.status, 403);
  assert.equal(no.sluiceError, 'POLICY_DENIED');
  assert.deepEqual(no.refusal, { kind: 'Status', code: 403 });
  const slow = await client.exec(caller(), { url: '/x/exec?command=sleep', timeoutMs: 100 });
  assert.equal(slow.timedOut, true);
});
