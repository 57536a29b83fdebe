// exec/attach/port-forward through createPodStreams(): WebSocket remotecommand v5/v4 with the ws
// client, SPDY/3.1 with a client built on the emulator's own SPDY session, kubectl cp's tar both
// ways, the SPDY header codec against real zlib, and port-forward's HTTP responder over SPDY.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Readable } from 'node:stream';
import { constants as zc, createDeflate } from 'node:zlib';
import tar from 'tar-stream';
import { WebSocket } from 'ws';
import { SpdyHeaderCodec, SpdySession, type SpdyStream } from '../../../testing/kube-emulator/streams/spdy-session.ts';
import { SPDY3_DICTIONARY } from '../../../src/protocols/kubernetes/spdy-dictionary.ts';
import { startFixture, type Fixture } from './streams-fixture.ts';

let fx: Fixture;
before(async () => {
  fx = await startFixture(30);
});
after(async () => {
  await fx.close();
});

interface WsResult {
  stdout: Buffer;
  stderr: Buffer;
  error: string;
  protocol: string;
}

function qs(cmd: string[], extra: Record<string, string> = {}): string {
  const p = new URLSearchParams();
  for (const c of cmd) p.append('command', c);
  for (const [k, v] of Object.entries({ stdout: 'true', stderr: 'true', ...extra })) p.set(k, v);
  return p.toString();
}

function wsExec(pod: string, query: string, protocol: string, stdin?: Buffer): Promise<WsResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${fx.port}/api/v1/namespaces/dev/pods/${pod}/exec?${query}`, [protocol]);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let error = '';
    ws.on('open', () => {
      if (stdin) {
        ws.send(Buffer.concat([Buffer.from([0]), stdin]));
        if (ws.protocol === 'v5.channel.k8s.io') ws.send(Buffer.from([255, 0]));
      }
    });
    ws.on('message', (d: Buffer) => {
      const ch = d[0];
      const payload = d.subarray(1);
      if (ch === 1) out.push(payload);
      else if (ch === 2) err.push(payload);
      else if (ch === 3) error += payload.toString();
    });
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('error', reject);
    ws.on('close', () => resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err), error, protocol: ws.protocol }));
  });
}

interface SpdyResult {
  stdout: Buffer;
  stderr: Buffer;
  error: string;
  upgradeHead: string;
}

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A SPDY/3.1 upgrade as client-go's spdy round tripper does it, then remotecommand streams. */
function spdyConnect(path: string, protocols: string[]): Promise<{ session: SpdySession; head: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(fx.port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let session: SpdySession | undefined;
    socket.on('error', reject);
    socket.on('data', (d: Buffer) => {
      if (session) {
        session.receive(d);
        return;
      }
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      if (!head.startsWith('HTTP/1.1 101')) {
        reject(new Error(head + buf.subarray(end).toString()));
        return;
      }
      session = new SpdySession({ write: (b) => socket.write(b), end: () => socket.end() }, { server: false });
      socket.on('end', () => session?.transportClosed());
      resolve({ session, head, socket });
      const rest = buf.subarray(end + 4);
      if (rest.length) session.receive(rest);
    });
    socket.write(
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n` +
        protocols.map((p) => `X-Stream-Protocol-Version: ${p}\r\n`).join('') +
        'Content-Length: 0\r\n\r\n',
    );
  });
}

async function spdyExec(cmd: string[], stdin?: Buffer, extra: Record<string, string> = {}): Promise<SpdyResult> {
  const q = qs(cmd, stdin ? { stdin: 'true', ...extra } : extra);
  const { session, head, socket } = await spdyConnect(`/api/v1/namespaces/dev/pods/web-x/exec?${q}`, [
    'v4.channel.k8s.io',
    'v3.channel.k8s.io',
    'v2.channel.k8s.io',
    'channel.k8s.io',
  ]);
  const error = session.openStream({ streamType: 'error' });
  let input: SpdyStream | undefined;
  if (stdin) input = session.openStream({ streamType: 'stdin' });
  const stdout = session.openStream({ streamType: 'stdout' });
  const stderr = session.openStream({ streamType: 'stderr' });
  if (input) input.end(stdin);
  const [o, e, er] = await Promise.all([readAll(stdout.incoming), readAll(stderr.incoming), readAll(error.incoming)]);
  socket.end();
  return { stdout: o, stderr: e, error: er.toString(), upgradeHead: head };
}

describe('exec over WebSocket', () => {
  it('v5: stdout and a Success status', async () => {
    const r = await wsExec('web-x', qs(['echo', 'hello', 'world']), 'v5.channel.k8s.io');
    assert.equal(r.protocol, 'v5.channel.k8s.io');
    assert.equal(r.stdout.toString(), 'hello world\n');
    assert.deepEqual(JSON.parse(r.error), { metadata: {}, status: 'Success' });
  });

  it('v4: non-zero exit code in the Status causes', async () => {
    const r = await wsExec('web-x', qs(['sh', '-c', 'echo out; echo err >&2; exit 3']), 'v4.channel.k8s.io');
    assert.equal(r.stdout.toString(), 'out\n');
    assert.equal(r.stderr.toString(), 'err\n');
    const st = JSON.parse(r.error);
    assert.equal(st.status, 'Failure');
    assert.equal(st.reason, 'NonZeroExitCode');
    assert.deepEqual(st.details.causes, [{ reason: 'ExitCode', message: '3' }]);
  });

  it('v5: stdin to cat, closed with the close signal', async () => {
    const r = await wsExec('web-x', qs(['cat'], { stdin: 'true' }), 'v5.channel.k8s.io', Buffer.from('piped input\n'));
    assert.equal(r.stdout.toString(), 'piped input\n');
    assert.equal(JSON.parse(r.error).status, 'Success');
  });

  it('env, the service account token, and unknown commands', async () => {
    const env = await wsExec('web-x', qs(['env']), 'v5.channel.k8s.io');
    assert.match(env.stdout.toString(), /^APP_MODE=demo$/m);
    assert.match(env.stdout.toString(), /^KUBERNETES_SERVICE_HOST=10\.96\.0\.1$/m);
    const tok = await wsExec('web-x', qs(['cat', '/var/run/secrets/kubernetes.io/serviceaccount/token']), 'v5.channel.k8s.io');
    assert.equal(tok.stdout.toString().split('.').length, 3);
    const missing = await wsExec('web-x', qs(['nope']), 'v5.channel.k8s.io');
    assert.match(missing.stderr.toString(), /executable file not found/);
    assert.notEqual(JSON.parse(missing.error).status, 'Success');
  });

  it('rejects bad requests before upgrading', async () => {
    await assert.rejects(wsExec('web-x', 'stdout=true', 'v5.channel.k8s.io'), /HTTP 400/);
    await assert.rejects(wsExec('multi', qs(['ls']), 'v5.channel.k8s.io'), /HTTP 400/);
  });
});

describe('exec over SPDY/3.1', () => {
  it('negotiates v4 and runs a command', async () => {
    const r = await spdyExec(['sh', '-c', 'echo one && false || echo two; pwd']);
    assert.match(r.upgradeHead, /X-Stream-Protocol-Version: v4\.channel\.k8s\.io/);
    assert.equal(r.stdout.toString(), 'one\ntwo\n/\n');
    assert.deepEqual(JSON.parse(r.error), { metadata: {}, status: 'Success' });
  });

  it('reports the exit code of false', async () => {
    const r = await spdyExec(['false']);
    assert.equal(JSON.parse(r.error).details.causes[0].message, '1');
  });

  it('interactive sh reads stdin', async () => {
    const r = await spdyExec(['sh'], Buffer.from('echo a\nwhoami\nexit 7\necho never\n'));
    assert.equal(r.stdout.toString(), 'a\nroot\n');
    assert.equal(JSON.parse(r.error).details.causes[0].message, '7');
  });

  it('kubectl cp: tar up, then cat and tar down', async () => {
    const pack = tar.pack();
    pack.entry({ name: 'hello.txt', mode: 0o644 }, 'uploaded via tar\n');
    pack.finalize();
    const archive = await readAll(pack as unknown as Readable);
    const up = await spdyExec(['tar', '-xmf', '-', '-C', '/tmp'], archive);
    assert.equal(JSON.parse(up.error).status, 'Success', up.stderr.toString());
    const cat = await spdyExec(['cat', '/tmp/hello.txt']);
    assert.equal(cat.stdout.toString(), 'uploaded via tar\n');
    const down = await spdyExec(['tar', 'cf', '-', '/tmp/hello.txt']);
    assert.match(down.stderr.toString(), /Removing leading/);
    const ex = tar.extract();
    Readable.from([down.stdout]).pipe(ex);
    const got: Record<string, string> = {};
    for await (const entry of ex) got[entry.header.name] = (await readAll(entry as unknown as Readable)).toString();
    assert.deepEqual(got, { 'tmp/hello.txt': 'uploaded via tar\n' });
  });

  it('port-forward: an HTTP answer through a data/error stream pair', async () => {
    const { session, head, socket } = await spdyConnect('/api/v1/namespaces/dev/pods/web-x/portforward', ['portforward.k8s.io']);
    assert.match(head, /X-Stream-Protocol-Version: portforward\.k8s\.io/);
    const error = session.openStream({ streamType: 'error', port: '80', requestID: '0' });
    const data = session.openStream({ streamType: 'data', port: '80', requestID: '0' });
    data.write('GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const [resp, err] = await Promise.all([readAll(data.incoming), readAll(error.incoming)]);
    assert.match(resp.toString(), /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(resp.toString(), /Hello from pod dev\/web-x/);
    assert.equal(err.toString(), '');
    socket.end();
  });
});

describe('SPDY header codec', () => {
  it('decodes header blocks compressed by real zlib with the SPDY/3 dictionary', async () => {
    const writer = new SpdyHeaderCodec();
    const deflate = createDeflate({ dictionary: SPDY3_DICTIONARY });
    const flushBlock = (raw: Buffer): Promise<Buffer> =>
      new Promise((resolve) => {
        const chunks: Buffer[] = [];
        const onData = (c: Buffer): number => chunks.push(c);
        deflate.on('data', onData);
        deflate.write(raw);
        deflate.flush(zc.Z_SYNC_FLUSH, () => {
          deflate.off('data', onData);
          resolve(Buffer.concat(chunks));
        });
      });
    // Uncompressed blocks built with the codec's own encoder, re-compressed by zlib.
    const inflateRaw = (b: Buffer): Buffer => {
      // strip the zlib header/dictid (first block only) and parse stored blocks
      let off = b[0] === 0x78 ? 6 : 0;
      const parts: Buffer[] = [];
      while (off < b.length) {
        const len = b.readUInt16LE(off + 1);
        parts.push(b.subarray(off + 5, off + 5 + len));
        off += 5 + len;
      }
      return Buffer.concat(parts);
    };
    const reader = new SpdyHeaderCodec();
    const b1 = await flushBlock(inflateRaw(writer.encode([['streamtype', 'error']])));
    const b2 = await flushBlock(inflateRaw(writer.encode([['streamtype', 'stdout'], ['port', '80']])));
    assert.deepEqual([...reader.decode(b1)], [['streamtype', 'error']]);
    assert.deepEqual([...reader.decode(b2)], [['streamtype', 'stdout'], ['port', '80']]);
    deflate.close();
  });
});
