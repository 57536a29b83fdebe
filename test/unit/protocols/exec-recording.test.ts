/**
 * Terminal recording in the exec/attach relays (issue #6, ADR 0002 Decision 5): what each relay
 * hands to `record` — stdout/stderr exactly as written to the client, stdin as the client sent it
 * but masked, resize messages, the exit Status — over WebSocket (v5 binary and v4 base64) and
 * SPDY/3.1, masked and unmasked sessions. Frames are built with the libraries the two ends use:
 * `ws`'s Sender (client frames masked, as RFC 6455 requires) and the emulator's SPDY session.
 * The client's bytes are fed to `observeClient` in awkward pieces, and must come out untouched:
 * they are the bytes the caller splices to the API server.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, type Duplex } from 'node:stream';
import * as wsModule from 'ws';
import type { RecordedStream } from '../../../src/audit/types.ts';
import { createDetectors } from '../../../src/masking/detectors/index.ts';
import type { ExecMaskingOptions, ExecRecording, MaskedRelay } from '../../../src/protocols/kubernetes/exec-masking.ts';
import { relayMaskedWebSocket } from '../../../src/protocols/kubernetes/ws-exec-masking.ts';
import { relayMaskedSpdy } from '../../../src/protocols/kubernetes/spdy-exec-masking.ts';
import { FRAME, SpdySession } from '../../../testing/kube-emulator/streams/spdy-session.ts';

const GHP = ['gh', 'p_', 'FakeTokenForTestsOnly'.padEnd(36, '0')].join('');
const detectors = createDetectors();
const MASKING: ExecMaskingOptions = { detectors, idleMs: 0 };
const STATUS = '{"metadata":{},"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}';

const { Sender } = wsModule as unknown as {
  Sender: new (socket: Duplex, ext?: unknown, gen?: unknown) => {
    send(d: Buffer | string, o: { binary: boolean; fin: boolean; mask: boolean; compress: boolean }): void;
    close(code: number | undefined, d: Buffer | undefined, mask: boolean): void;
  };
};

interface Sink {
  chunks: { stream: RecordedStream; data: Buffer }[];
  recording: ExecRecording;
  /** Concatenated text of one stream. */
  text(stream: RecordedStream): string;
  streams(): RecordedStream[];
}

function sink(masking?: ExecMaskingOptions): Sink {
  const chunks: { stream: RecordedStream; data: Buffer }[] = [];
  return {
    chunks,
    recording: { record: (stream, data) => chunks.push({ stream, data: Buffer.from(data) }), ...(masking ? { masking } : {}) },
    text: (s) => Buffer.concat(chunks.filter((c) => c.stream === s).map((c) => c.data)).toString(),
    streams: () => chunks.map((c) => c.stream),
  };
}

/** WebSocket frames as bytes: server frames unmasked, client frames masked. */
function wsBytes(mask: boolean, build: (send: (d: Buffer | string, binary?: boolean) => void, close: () => void) => void): Buffer {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (c: Buffer) => parts.push(c));
  const s = new Sender(out, {}, undefined);
  build(
    (d, binary = true) => s.send(d, { binary, fin: true, mask, compress: false }),
    () => s.close(1000, undefined, mask),
  );
  out.end();
  return Buffer.concat(parts);
}

const ch = (n: number, s: string | Buffer): Buffer => Buffer.concat([Buffer.from([n]), Buffer.from(s)]);
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Feeds `bytes` to observeClient one byte at a time and checks the bytes were not changed. */
function observe(relay: MaskedRelay, bytes: Buffer): void {
  const before = Buffer.from(bytes);
  for (let i = 0; i < bytes.length; i++) relay.observeClient(bytes.subarray(i, i + 1));
  assert.ok(bytes.equals(before), 'the client bytes (spliced upstream) were modified');
}

/** Feeds `bytes` to observeClient in one piece and checks they were not changed. */
function observeWhole(relay: MaskedRelay, bytes: Buffer): void {
  const before = Buffer.from(bytes);
  relay.observeClient(bytes);
  assert.ok(bytes.equals(before), 'the client bytes (spliced upstream) were modified');
}

async function runWs(opts: { protocol: string; masking?: ExecMaskingOptions; recording: ExecRecording; server: Buffer; client: Buffer; whole?: boolean }): Promise<{ out: Buffer; failed: Error | null; relay: MaskedRelay }> {
  const upstream = new PassThrough();
  const client = new PassThrough();
  const parts: Buffer[] = [];
  client.on('data', (c: Buffer) => parts.push(c));
  let failed: Error | null = null;
  const relay = relayMaskedWebSocket({
    protocol: opts.protocol,
    upstream,
    client,
    head: Buffer.alloc(0),
    ...(opts.masking ? { masking: opts.masking } : {}),
    recording: opts.recording,
    fail: (e) => (failed = e),
  });
  if (opts.whole) observeWhole(relay, opts.client);
  else observe(relay, opts.client);
  upstream.write(opts.server);
  upstream.end();
  await tick();
  await tick();
  relay.finish();
  return { out: Buffer.concat(parts), failed, relay };
}

describe('WebSocket relay recording (ws-exec-masking.ts)', () => {
  const server = wsBytes(false, (send, close) => {
    send(ch(1, ''));
    send(ch(1, `token ${GHP.slice(0, 9)}`));
    send(ch(1, `${GHP.slice(9)} ok\nprompt$ `));
    send(ch(2, `err ${GHP}\n`));
    send(ch(3, STATUS));
    close();
  });
  const client = wsBytes(true, (send, close) => {
    send(ch(4, '{"Width":120,"Height":40}'));
    send(ch(0, `export T=${GHP.slice(0, 10)}`));
    send(ch(0, `${GHP.slice(10)}\nls`));
    send(ch(4, '{"Width":100,"Height":30}'));
    send(Buffer.from([255, 0])); // v5: close stdin
    close();
  });

  test('masked v5 session: output recorded as the client got it, stdin masked in the record, resize and Status recorded', async () => {
    const rec = sink(MASKING);
    const { out, failed } = await runWs({ protocol: 'v5.channel.k8s.io', masking: MASKING, recording: rec.recording, server, client });
    assert.equal(failed, null);
    assert.equal(rec.text('stdout'), `token [MASKED:github-token] ok\nprompt$ `);
    assert.equal(rec.text('stderr'), 'err [MASKED:github-token]\n');
    assert.equal(rec.text('status'), STATUS);
    assert.equal(rec.text('stdin'), 'export T=[MASKED:github-token]\nls');
    assert.deepEqual(rec.chunks.filter((c) => c.stream === 'resize').map((c) => c.data.toString()), ['{"Width":120,"Height":40}', '{"Width":100,"Height":30}']);
    // The exit Status comes after every byte of output in the record.
    const streams = rec.streams().filter((s) => s !== 'stdin' && s !== 'resize');
    assert.equal(streams[streams.length - 1], 'status');
    // What was recorded of stdout is what the client received on channel 1.
    assert.ok(out.includes(Buffer.from('token [MASKED:github-token] ok\n')));
    assert.ok(!Buffer.concat(rec.chunks.map((c) => c.data)).includes(GHP), 'a token reached the record in clear');
  });

  test('the client bytes in one piece: the same record', async () => {
    const rec = sink(MASKING);
    await runWs({ protocol: 'v5.channel.k8s.io', masking: MASKING, recording: rec.recording, server, client, whole: true });
    assert.equal(rec.text('stdin'), 'export T=[MASKED:github-token]\nls');
    assert.equal(rec.chunks.filter((c) => c.stream === 'resize').length, 2);
  });

  test('masking off: every message goes out unchanged and is recorded as it is', async () => {
    const rec = sink();
    const { out, failed } = await runWs({ protocol: 'v5.channel.k8s.io', recording: rec.recording, server, client });
    assert.equal(failed, null);
    assert.ok(out.equals(server), 'the relay changed the API server frames');
    assert.equal(rec.text('stdout'), `token ${GHP} ok\nprompt$ `);
    assert.equal(rec.text('stderr'), `err ${GHP}\n`);
    assert.equal(rec.text('stdin'), `export T=${GHP}\nls`);
    assert.equal(rec.text('status'), STATUS);
  });

  test('masking lifted: the client gets the output unmasked, the recorded copies are masked', async () => {
    const rec = sink(MASKING);
    const { out } = await runWs({ protocol: 'v5.channel.k8s.io', recording: rec.recording, server, client });
    assert.ok(out.equals(server));
    assert.equal(rec.text('stdout'), `token [MASKED:github-token] ok\nprompt$ `);
    assert.equal(rec.text('stderr'), 'err [MASKED:github-token]\n');
    assert.equal(rec.text('stdin'), 'export T=[MASKED:github-token]\nls');
    const streams = rec.streams().filter((s) => s !== 'stdin' && s !== 'resize');
    assert.equal(streams[streams.length - 1], 'status', 'output held by the copy is recorded before the Status');
  });

  test('v4.base64.channel.k8s.io: text frames both ways are decoded for the record', async () => {
    const b64 = (n: number, s: string): string => `${n}${Buffer.from(s).toString('base64')}`;
    const srv = wsBytes(false, (send, close) => {
      send(b64(1, `out ${GHP}\n`), false);
      send(b64(3, '{"status":"Success"}'), false);
      close();
    });
    const cli = wsBytes(true, (send, close) => {
      send(b64(0, `in ${GHP}\n`), false);
      send(b64(4, '{"Width":90,"Height":20}'), false);
      close();
    });
    const rec = sink(MASKING);
    const { failed } = await runWs({ protocol: 'v4.base64.channel.k8s.io', masking: MASKING, recording: rec.recording, server: srv, client: cli });
    assert.equal(failed, null);
    assert.equal(rec.text('stdout'), 'out [MASKED:github-token]\n');
    assert.equal(rec.text('stdin'), 'in [MASKED:github-token]\n');
    assert.equal(rec.text('resize'), '{"Width":90,"Height":20}');
    assert.equal(rec.text('status'), '{"status":"Success"}');
  });

  test('a partial stdin line is recorded when the session ends', async () => {
    const rec = sink(MASKING);
    const cli = wsBytes(true, (send) => send(ch(0, 'typed but no newline')));
    await runWs({ protocol: 'v5.channel.k8s.io', masking: MASKING, recording: rec.recording, server, client: cli });
    assert.equal(rec.text('stdin'), 'typed but no newline');
  });

  test('a client frame that is not masked (RFC 6455 §5.3) fails the session: it could not be recorded', async () => {
    const rec = sink(MASKING);
    const unmasked = wsBytes(false, (send) => send(ch(0, 'hidden\n')));
    const { failed } = await runWs({ protocol: 'v5.channel.k8s.io', masking: MASKING, recording: rec.recording, server: Buffer.alloc(0), client: unmasked });
    assert.ok(failed instanceof Error);
    assert.equal(rec.text('stdin'), '');
  });

  test('without recording the client bytes are not read', async () => {
    const upstream = new PassThrough();
    const relay = relayMaskedWebSocket({ protocol: 'v5.channel.k8s.io', upstream, client: new PassThrough(), head: Buffer.alloc(0), masking: MASKING, fail: () => assert.fail('failed') });
    relay.observeClient(wsBytes(false, (send) => send(ch(0, 'unmasked frame, not parsed\n'))));
    relay.finish();
    upstream.end();
    await tick();
  });
});

/** A client half: streams error (1), stdin (3), stdout (5), stderr (7), resize (9). */
function spdyClient(build: (s: { stdin: { write(d: string): void; end(): void }; resize: { write(d: string): void } }) => void): Buffer {
  const parts: Buffer[] = [];
  const c = new SpdySession({ write: (b) => parts.push(b), end: () => undefined }, { server: false });
  c.openStream({ streamType: 'error' });
  const stdin = c.openStream({ streamType: 'stdin' });
  c.openStream({ streamType: 'stdout' });
  c.openStream({ streamType: 'stderr' });
  const resize = c.openStream({ streamType: 'resize' });
  build({ stdin: { write: (d) => stdin.write(d), end: () => stdin.end() }, resize: { write: (d) => resize.write(d) } });
  return Buffer.concat(parts);
}

function spdyServer(build: (s: SpdySession) => void): Buffer {
  const parts: Buffer[] = [];
  const s = new SpdySession({ write: (b) => parts.push(b), end: () => undefined }, { server: true });
  build(s);
  return Buffer.concat(parts);
}

async function runSpdy(opts: { masking?: ExecMaskingOptions; recording: ExecRecording; server: Buffer; client: Buffer; split?: number }): Promise<Buffer> {
  const upstream = new PassThrough();
  const client = new PassThrough();
  const parts: Buffer[] = [];
  client.on('data', (c: Buffer) => parts.push(c));
  const relay = relayMaskedSpdy({ upstream, client, head: Buffer.alloc(0), ...(opts.masking ? { masking: opts.masking } : {}), recording: opts.recording, fail: (e) => assert.fail(e) });
  observe(relay, opts.client);
  const at = opts.split ?? opts.server.length;
  upstream.write(opts.server.subarray(0, at));
  upstream.write(opts.server.subarray(at));
  upstream.end();
  await tick();
  relay.finish();
  return Buffer.concat(parts);
}

describe('SPDY/3.1 relay recording (spdy-exec-masking.ts)', () => {
  const client = spdyClient(({ stdin, resize }) => {
    resize.write('{"Width":132,"Height":43}\n');
    stdin.write(`echo ${GHP.slice(0, 7)}`);
    stdin.write(`${GHP.slice(7)}\n`);
    resize.write('{"Width":80,"Height":25}\n');
    stdin.end();
  });
  const server = spdyServer((s) => {
    for (const id of [1, 3, 5, 7, 9]) s.sendControl(FRAME.SYN_REPLY, 0, Buffer.concat([Buffer.from([0, 0, 0, id]), s.codec.encode([])]));
    s.sendData(5, Buffer.from(`${GHP.slice(0, 20)}`), false);
    s.sendData(5, Buffer.from(`${GHP.slice(20)}\n$ `), false);
    s.sendData(7, Buffer.from(`warn ${GHP}\n`), false);
    s.sendData(5, Buffer.alloc(0), true);
    s.sendData(7, Buffer.alloc(0), true);
    s.sendData(1, Buffer.from(STATUS), true);
    s.goAway();
  });

  test('masked session: stdout/stderr as the client got them, stdin masked, resize and Status — at several split offsets', async () => {
    for (const split of [0, 17, 60, Math.floor(server.length / 2), server.length - 3]) {
      const rec = sink(MASKING);
      await runSpdy({ masking: MASKING, recording: rec.recording, server, client, split });
      assert.equal(rec.text('stdout'), '[MASKED:github-token]\n$ ', `split ${split}`);
      assert.equal(rec.text('stderr'), 'warn [MASKED:github-token]\n');
      assert.equal(rec.text('stdin'), 'echo [MASKED:github-token]\n');
      assert.equal(rec.text('status'), STATUS);
      assert.equal(rec.chunks.filter((c) => c.stream === 'status').length, 1, 'one Status chunk per frame');
      assert.deepEqual(rec.chunks.filter((c) => c.stream === 'resize').map((c) => c.data.toString()), ['{"Width":132,"Height":43}\n', '{"Width":80,"Height":25}\n']);
      const out = rec.streams().filter((s) => s !== 'stdin' && s !== 'resize');
      assert.equal(out[out.length - 1], 'status');
    }
  });

  test('masking off: frames pass unchanged, everything recorded as it is', async () => {
    const rec = sink();
    const out = await runSpdy({ recording: rec.recording, server, client });
    assert.ok(out.equals(server), 'the relay changed the API server frames');
    assert.equal(rec.text('stdout'), `${GHP}\n$ `);
    assert.equal(rec.text('stderr'), `warn ${GHP}\n`);
    assert.equal(rec.text('stdin'), `echo ${GHP}\n`);
    assert.equal(rec.text('status'), STATUS);
  });

  test('masking lifted: frames pass unchanged, the recorded copies are masked', async () => {
    const rec = sink(MASKING);
    const out = await runSpdy({ recording: rec.recording, server, client });
    assert.ok(out.equals(server));
    assert.equal(rec.text('stdout'), '[MASKED:github-token]\n$ ');
    assert.equal(rec.text('stderr'), 'warn [MASKED:github-token]\n');
    assert.equal(rec.text('stdin'), 'echo [MASKED:github-token]\n');
    const streams = rec.streams().filter((s) => s !== 'stdin' && s !== 'resize');
    assert.equal(streams[streams.length - 1], 'status');
  });

  test('client DATA on a stream of unknown type is recorded as stdin (fail closed)', async () => {
    const rec = sink(MASKING);
    // DATA on stream 11, never opened: its type is unknown.
    const payload = Buffer.from(`stray ${GHP}\n`);
    const stray = Buffer.alloc(8);
    stray.writeUInt32BE(11, 0);
    stray.writeUInt32BE(payload.length, 4);
    await runSpdy({ masking: MASKING, recording: rec.recording, server, client: Buffer.concat([client, stray, payload]) });
    assert.equal(rec.text('stdin'), 'echo [MASKED:github-token]\nstray [MASKED:github-token]\n');
  });
});
