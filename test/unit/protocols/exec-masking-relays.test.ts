/**
 * The exec/attach masking relays on their own, fed frames built with the same libraries the two
 * ends use: `ws`'s Sender for the API server's WebSocket frames (read back with `ws`'s Receiver)
 * and the emulator's SPDY session (which mirrors moby/spdystream) for SPDY/3.1. Every test also
 * feeds the upstream bytes in awkward pieces (one byte at a time, or split at every offset).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, type Duplex } from 'node:stream';
import * as wsModule from 'ws';
import { createDetectors } from '../../../src/masking/detectors/index.ts';
import { relayMaskedWebSocket } from '../../../src/protocols/kubernetes/ws-exec-masking.ts';
import { relayMaskedSpdy } from '../../../src/protocols/kubernetes/spdy-exec-masking.ts';
import { FRAME, SpdySession } from '../../../testing/kube-emulator/streams/spdy-session.ts';

const GHP = ['gh', 'p_', 'FakeTokenForTestsOnly'.padEnd(36, '0')].join('');
const detectors = createDetectors();

interface Frame {
  kind: 'message' | 'ping' | 'pong' | 'close';
  data: Buffer;
  binary?: boolean;
  code?: number;
}
const { Receiver, Sender } = wsModule as unknown as {
  Receiver: new (o: { isServer: boolean }) => NodeJS.WritableStream & { on(e: string, l: (...a: never[]) => void): void };
  Sender: new (socket: Duplex, ext?: unknown, gen?: unknown) => {
    send(d: Buffer | string, o: { binary: boolean; fin: boolean; mask: boolean; compress: boolean }): void;
    ping(d: Buffer, mask: boolean): void;
    close(code: number | undefined, d: Buffer | undefined, mask: boolean): void;
  };
};

/** Server frames as bytes, written with ws's Sender. */
function serverBytes(build: (s: InstanceType<typeof Sender>) => void): Buffer {
  const sink = new PassThrough();
  const parts: Buffer[] = [];
  sink.on('data', (c: Buffer) => parts.push(c));
  build(new Sender(sink, {}, undefined));
  sink.end();
  return Buffer.concat(parts);
}

/** What a client reads from `bytes` (frames as a ws client sees them). */
function clientFrames(bytes: Buffer): Frame[] {
  const r = new Receiver({ isServer: false });
  const out: Frame[] = [];
  r.on('message', (data: Buffer, binary: boolean) => out.push({ kind: 'message', data: Buffer.from(data), binary }));
  r.on('ping', (data: Buffer) => out.push({ kind: 'ping', data: Buffer.from(data) }));
  r.on('pong', (data: Buffer) => out.push({ kind: 'pong', data: Buffer.from(data) }));
  r.on('conclude', (code: number, data: Buffer) => out.push({ kind: 'close', data: Buffer.from(data), code }));
  r.write(bytes);
  return out;
}

/** Runs `upstreamBytes` through a WebSocket relay in `pieces`; returns the client's bytes. */
async function wsRelay(protocol: string, upstreamBytes: Buffer, pieces: (b: Buffer) => Buffer[]): Promise<{ out: Buffer; failed: Error | null; counts: ReturnType<ReturnType<typeof relayMaskedWebSocket>['counts']> }> {
  const upstream = new PassThrough();
  const client = new PassThrough();
  const parts: Buffer[] = [];
  client.on('data', (c: Buffer) => parts.push(c));
  let failed: Error | null = null;
  const relay = relayMaskedWebSocket({ protocol, upstream, client, head: Buffer.alloc(0), masking: { detectors, idleMs: 0 }, fail: (e) => (failed = e) });
  for (const p of pieces(upstreamBytes)) upstream.write(p);
  upstream.end();
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  return { out: Buffer.concat(parts), failed, counts: relay.counts() };
}

const ch = (n: number, s: string | Buffer): Buffer => Buffer.concat([Buffer.from([n]), Buffer.from(s)]);

describe('WebSocket relay (ws-exec-masking.ts)', () => {
  const upstream = serverBytes((s) => {
    const o = { binary: true, fin: true, mask: false, compress: false };
    s.send(ch(1, ''), o); // "stream open"
    s.send(ch(1, `token ${GHP.slice(0, 9)}`), o);
    s.send(ch(1, `${GHP.slice(9)} ok\nnext`), o);
    s.ping(Buffer.from('hb'), false);
    // A fragmented stderr message.
    s.send(ch(2, `frag ${GHP.slice(0, 20)}`), { ...o, fin: false });
    s.send(Buffer.from(`${GHP.slice(20)}\n`), { ...o, fin: true });
    s.send(ch(4, '{"Width":80}'), o);
    s.send(ch(3, '{"metadata":{},"status":"Success"}'), o);
    s.close(1000, Buffer.from('bye'), false);
  });

  for (const [what, pieces] of [
    ['whole', (b: Buffer) => [b]],
    ['one byte at a time', (b: Buffer) => [...b].map((x) => Buffer.from([x]))],
  ] as const) {
    test(`v5 frames (${what}): stdout/stderr masked, other channels, ping and close unchanged`, async () => {
      const { out, failed, counts } = await wsRelay('v5.channel.k8s.io', upstream, pieces);
      assert.equal(failed, null);
      const frames = clientFrames(out);
      const show = frames.map((f) => (f.kind === 'message' ? `${f.data[0]}:${f.data.subarray(1).toString()}` : `${f.kind}:${f.data.toString()}${f.code ? `:${f.code}` : ''}`));
      assert.deepEqual(show, [
        '1:',
        '1:token [MASKED:github-token] ok\n',
        'ping:hb',
        '2:frag [MASKED:github-token]\n',
        '4:{"Width":80}',
        '1:next', // released before the exit Status
        '3:{"metadata":{},"status":"Success"}',
        'close:bye:1000',
      ]);
      assert.deepEqual(counts, { detectors: { 'github-token': 2 }, oversizeLines: 0 });
    });
  }

  test('base64 protocol: text frames in, text frames out', async () => {
    const bytes = serverBytes((s) => {
      const o = { binary: false, fin: true, mask: false, compress: false };
      s.send(`1${Buffer.from(`a ${GHP}\n`).toString('base64')}`, o);
      s.send(`3${Buffer.from('{"status":"Success"}').toString('base64')}`, o);
      s.close(1000, undefined, false);
    });
    const { out } = await wsRelay('v4.base64.channel.k8s.io', bytes, (b) => [b]);
    const frames = clientFrames(out);
    assert.equal(frames[0]!.binary, false);
    assert.equal(frames[0]!.data.toString(), `1${Buffer.from('a [MASKED:github-token]\n').toString('base64')}`);
    assert.equal(frames[1]!.data.toString(), `3${Buffer.from('{"status":"Success"}').toString('base64')}`);
    assert.equal(frames[2]!.kind, 'close');
  });

  test('a frame the API server must not send (masked) fails the relay', async () => {
    const sink = new PassThrough();
    const parts: Buffer[] = [];
    sink.on('data', (c: Buffer) => parts.push(c));
    new Sender(sink, {}, undefined).send(ch(1, 'x\n'), { binary: true, fin: true, mask: true, compress: false });
    const { failed } = await wsRelay('v5.channel.k8s.io', Buffer.concat(parts), (b) => [b]);
    assert.ok(failed instanceof Error);
  });
});

/** SPDY frames as a server would send them (the emulator's session, as moby/spdystream writes them). */
function spdyServer(build: (s: SpdySession) => void): Buffer {
  const parts: Buffer[] = [];
  const s = new SpdySession({ write: (b) => parts.push(b), end: () => undefined }, { server: true });
  build(s);
  return Buffer.concat(parts);
}

/** The client half: SYN_STREAM for error (1), stdout (3), stderr (5); returns its bytes. */
function spdyClientStreams(): Buffer {
  const parts: Buffer[] = [];
  const c = new SpdySession({ write: (b) => parts.push(b), end: () => undefined }, { server: false });
  c.openStream({ streamType: 'error' });
  c.openStream({ streamType: 'stdout' });
  c.openStream({ streamType: 'stderr' });
  return Buffer.concat(parts);
}

/** Reads the client's output back into per-stream data and a frame list. */
function spdyRead(out: Buffer): { data: Map<number, string>; frames: string[] } {
  const data = new Map<number, string>();
  const frames: string[] = [];
  for (let off = 0; off < out.length; ) {
    const len = out.readUIntBE(off + 5, 3);
    const flags = out[off + 4]!;
    const payload = out.subarray(off + 8, off + 8 + len);
    if (out[off]! & 0x80) frames.push(`control:${out.readUInt16BE(off + 2)}`);
    else {
      const id = out.readUInt32BE(off) & 0x7fffffff;
      data.set(id, (data.get(id) ?? '') + payload.toString());
      frames.push(`data:${id}${flags & 1 ? ':fin' : ''}`);
    }
    off += 8 + len;
  }
  return { data, frames };
}

async function spdyRelay(upstreamBytes: Buffer, split: number[], idleMs = 0): Promise<Buffer> {
  const upstream = new PassThrough();
  const client = new PassThrough();
  const parts: Buffer[] = [];
  client.on('data', (c: Buffer) => parts.push(c));
  const relay = relayMaskedSpdy({ upstream, client, head: Buffer.alloc(0), masking: { detectors, idleMs }, fail: (e) => assert.fail(e) });
  relay.observeClient(spdyClientStreams());
  let prev = 0;
  for (const at of [...split, upstreamBytes.length]) {
    upstream.write(upstreamBytes.subarray(prev, at));
    prev = at;
  }
  upstream.end();
  await new Promise((r) => setImmediate(r));
  return Buffer.concat(parts);
}

describe('SPDY/3.1 relay (spdy-exec-masking.ts)', () => {
  const status = '{"metadata":{},"status":"Success"}';
  const upstream = spdyServer((s) => {
    for (const id of [1, 3, 5]) s.sendControl(FRAME.SYN_REPLY, 0, Buffer.concat([Buffer.from([0, 0, 0, id]), s.codec.encode([])]));
    s.sendData(3, Buffer.from(`line ${GHP.slice(0, 15)}`), false);
    s.sendData(3, Buffer.from(`${GHP.slice(15)} end\npartial`), false);
    s.sendControl(FRAME.PING, 0, Buffer.from([0, 0, 0, 2]));
    s.sendData(5, Buffer.from(`err ${GHP}\n`), false);
    s.sendData(3, Buffer.alloc(0), true);
    s.sendData(5, Buffer.alloc(0), true);
    s.sendData(1, Buffer.from(status), true);
    s.sendData(7, Buffer.from(`unknown stream ${GHP}\n`), true);
    s.goAway();
  });

  test('stream types are learned from the client SYN_STREAMs, also one byte at a time', () => {
    const relay = relayMaskedSpdy({ upstream: new PassThrough(), client: new PassThrough(), head: Buffer.alloc(0), masking: { detectors }, fail: () => undefined });
    for (const b of spdyClientStreams()) relay.observeClient(Buffer.from([b]));
    assert.deepEqual([1, 3, 5, 7].map((id) => relay.streamType(id)), ['error', 'stdout', 'stderr', undefined]);
  });

  test('stdout/stderr DATA rewritten, error stream and control frames unchanged, FIN kept — at every split offset', async () => {
    for (let at = 0; at <= upstream.length; at++) {
      const { data, frames } = spdyRead(await spdyRelay(upstream, [at]));
      assert.equal(data.get(3), 'line [MASKED:github-token] end\npartial', `split at ${at}`);
      assert.equal(data.get(5), 'err [MASKED:github-token]\n');
      assert.equal(data.get(1), status);
      assert.equal(data.get(7), 'unknown stream [MASKED:github-token]\n', 'a stream of unknown type is masked');
      assert.deepEqual(frames.filter((f) => f.startsWith('control') || f.endsWith('fin')), [
        'control:2',
        'control:2',
        'control:2',
        'control:6',
        'data:3:fin',
        'data:5:fin',
        'data:1:fin',
        'data:7:fin',
        'control:7',
      ]);
    }
  });

  test('the error stream is passed through byte for byte', async () => {
    const out = await spdyRelay(upstream, []);
    const frame = spdyServer((s) => s.sendData(1, Buffer.from(status), true));
    assert.ok(out.includes(frame));
  });

  test('idle release writes a partial line as its own frame, between frames', async () => {
    const upstreamSock = new PassThrough();
    const client = new PassThrough();
    const parts: Buffer[] = [];
    client.on('data', (c: Buffer) => parts.push(c));
    const relay = relayMaskedSpdy({ upstream: upstreamSock, client, head: Buffer.alloc(0), masking: { detectors, idleMs: 10 }, fail: (e) => assert.fail(e) });
    relay.observeClient(spdyClientStreams());
    upstreamSock.write(spdyServer((s) => s.sendData(3, Buffer.from('/ # '), false)));
    // Half of a frame on the error stream: the release must wait for its end.
    const errFrame = spdyServer((s) => s.sendData(1, Buffer.from(status), false));
    upstreamSock.write(errFrame.subarray(0, 12));
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(Buffer.concat(parts).length, 12, 'nothing but the started frame was written');
    upstreamSock.write(errFrame.subarray(12));
    await new Promise((r) => setImmediate(r));
    const { data } = spdyRead(Buffer.concat(parts));
    assert.equal(data.get(3), '/ # ');
    assert.equal(data.get(1), status);
  });
});
