/**
 * The exec/attach relay over WebSocket: masking of the API server → client half of a
 * remotecommand session, and its recording (KEP-4006; `v5.channel.k8s.io` … `channel.k8s.io`
 * and the `base64.` variants, as k8s.io/apiserver/pkg/util/wsstream and client-go
 * tools/remotecommand speak them).
 *
 * The upstream bytes are parsed into messages by `ws`'s Receiver (RFC 6455 framing, client side:
 * server frames are unmasked; fragments reassembled; a protocol violation ends the session) and
 * written again by `ws`'s Sender. Each binary message starts with its channel byte (0 stdin,
 * 1 stdout, 2 stderr, 3 error, 4 resize, v5: 255 close); the base64 protocols send text messages
 * `<digit><base64 payload>`. stdout and stderr payloads go through one LineMasker each (every
 * complete line at once; a partial line — a shell prompt, typed echo — after `idleMs` of quiet);
 * every other channel, empty messages (the "stream open" signal) and control frames (ping, pong,
 * close) go out unchanged. Before the error channel's Status (the command has ended) and before
 * the close frame, what the maskers hold is released. Without masking (`masking` absent: masking
 * off or lifted, but the session is recorded) every message goes out as it came. Compression is
 * never negotiated on a relayed session (forward-upgrade.ts drops `Sec-WebSocket-Extensions`);
 * a 101 that still names an extension is refused there.
 *
 * Recording (`recording`): stdout and stderr payloads as written to the client (decoded from
 * base64, masked when masking applies; without masking, a RecordedCopy masked with the
 * recording's detectors when masking was lifted), the error channel's payload as `status`. The
 * client → API server half stays a byte splice; `observeClient` reads a copy of it with a second
 * Receiver (server side: RFC 6455 §5.3 client frames are masked, and the Receiver unmasks
 * payloads in place — hence the copy, so the bytes spliced upstream are never touched): channel 0
 * goes to stdin's RecordedCopy (masked like output), channel 4 (`{"Width":…,"Height":…}`) is
 * recorded as `resize`, v5's close of channel 0 ends stdin. A client frame the Receiver refuses
 * fails the session (`fail`): what the client sends must be recordable, or it is not sent on.
 */
import type { Duplex } from 'node:stream';
import * as wsModule from 'ws';
import { LineMasker } from '../../masking/text/index.ts';
import { DEFAULT_EXEC_IDLE_MS, holdWhileClientFull, IdleRelease, RecordedCopy, sumCounts, type ExecMaskingOptions, type ExecRecording, type MaskedRelay } from './exec-masking.ts';

/** The largest message accepted from the API server (it sends at most 32 KiB of output per message) or from the client. */
const MAX_PAYLOAD = 16 * 1024 * 1024;

/** The `ws` internals used here (exported by the package, not described by @types/ws). */
interface WsReceiver {
  on(event: 'message', l: (data: Buffer, isBinary: boolean) => void): this;
  on(event: 'ping' | 'pong', l: (data: Buffer) => void): this;
  on(event: 'conclude', l: (code: number, reason: Buffer) => void): this;
  on(event: 'error', l: (err: Error) => void): this;
  write(chunk: Buffer): boolean;
}
interface WsSender {
  send(data: Buffer | string, options: { binary: boolean; fin: boolean; mask: boolean; compress: boolean }, cb?: (err?: Error) => void): void;
  ping(data: Buffer, mask: boolean, cb?: (err?: Error) => void): void;
  pong(data: Buffer, mask: boolean, cb?: (err?: Error) => void): void;
  close(code: number | undefined, data: Buffer | undefined, mask: boolean, cb?: (err?: Error) => void): void;
}
const { Receiver, Sender } = wsModule as unknown as {
  Receiver: new (opts: { isServer: boolean; maxPayload: number; binaryType?: 'nodebuffer'; skipUTF8Validation?: boolean }) => WsReceiver;
  Sender: new (socket: Duplex, extensions?: Record<string, unknown>, generateMask?: unknown) => WsSender;
};

const CH_STDIN = 0;
const CH_STDOUT = 1;
const CH_STDERR = 2;
const CH_ERROR = 3;
const CH_RESIZE = 4;
/** v5.channel.k8s.io: `[255, n]` closes channel n. */
const CH_CLOSE = 255;

interface ChannelState {
  masker: LineMasker;
  idle: IdleRelease;
  /** Framing of the channel's last message: text (base64 protocols) or binary. */
  text: boolean;
}

/** A remotecommand message: its channel (-1 for an empty message) and payload (base64 decoded). */
function channelMessage(data: Buffer, isBinary: boolean, base64: boolean): { ch: number; payload: Buffer } {
  if (data.length === 0) return { ch: -1, payload: data };
  if (!isBinary && base64) return { ch: data[0]! - 0x30, payload: Buffer.from(data.subarray(1).toString('latin1'), 'base64') };
  return { ch: data[0]!, payload: data.subarray(1) };
}

/**
 * Relays `upstream` → `client` (bytes after the 101, `head` first) as WebSocket messages, masking
 * stdout and stderr when `masking` is given and passing every message unchanged otherwise;
 * records the session when `recording` is given (feed the client's bytes to `observeClient`).
 * `fail` is called once on a framing error of either side (then the caller tears both down).
 * Ends `client` when `upstream` ends.
 */
export function relayMaskedWebSocket(opts: {
  protocol: string;
  upstream: Duplex;
  client: Duplex;
  head: Buffer;
  /** Absent: no masking (the session is relayed only to be recorded). */
  masking?: ExecMaskingOptions;
  recording?: ExecRecording;
  fail: (err: Error) => void;
}): MaskedRelay {
  const { upstream, client, masking, recording } = opts;
  const record = recording?.record;
  const base64 = opts.protocol.toLowerCase().includes('base64');
  const idleMs = masking?.idleMs ?? DEFAULT_EXEC_IDLE_MS;
  const receiver = new Receiver({ isServer: false, maxPayload: MAX_PAYLOAD, binaryType: 'nodebuffer' });
  const sender = new Sender(client, {}, undefined);
  const channels = new Map<number, ChannelState>();
  const stdin = recording ? new RecordedCopy(recording.masking, (b) => recording.record('stdin', b)) : null;
  /** Recorded copies of output the client gets unmasked. */
  const copies = new Map<number, RecordedCopy>();
  const copy = (ch: number, rec: ExecRecording): RecordedCopy => {
    let c = copies.get(ch);
    if (c === undefined) {
      c = new RecordedCopy(rec.masking, (b) => rec.record(ch === CH_STDERR ? 'stderr' : 'stdout', b));
      copies.set(ch, c);
    }
    return c;
  };
  const endCopies = (): void => {
    for (const c of copies.values()) c.end();
    stdin?.end();
  };
  let concluded = false;
  let failed = false;

  const fail = (err: Error): void => {
    if (failed) return;
    failed = true;
    for (const st of channels.values()) st.idle.cancel();
    endCopies();
    opts.fail(err);
  };
  const sendFrame = (data: Buffer | string, binary: boolean): void => {
    if (client.destroyed) return;
    sender.send(data, { binary, fin: true, mask: false, compress: false });
  };
  /** Output of stdout/stderr as the client gets it: recorded, then written. */
  const sendOutput = (ch: number, payload: Buffer, text: boolean): void => {
    if (client.destroyed) return;
    record?.(ch === CH_STDERR ? 'stderr' : 'stdout', payload);
    if (text && base64) sendFrame(`${ch}${payload.toString('base64')}`, false);
    else sendFrame(Buffer.concat([Buffer.from([ch]), payload]), !text);
  };
  const channel = (ch: number, text: boolean, m: ExecMaskingOptions): ChannelState => {
    let st = channels.get(ch);
    if (st === undefined) {
      const masker = new LineMasker({ detectors: m.detectors, maxLineBytes: m.maxLineBytes });
      const created: ChannelState = {
        masker,
        text,
        idle: new IdleRelease(idleMs, () => {
          if (concluded || failed) return;
          const part = masker.releasePartial();
          if (part.length) sendOutput(ch, part, created.text);
        }),
      };
      st = created;
      channels.set(ch, st);
    }
    st.text = text;
    return st;
  };
  const flushAll = (): void => {
    for (const [ch, st] of channels) {
      st.idle.cancel();
      const out = st.masker.flush();
      if (out.length) sendOutput(ch, out, st.text);
    }
    for (const c of copies.values()) c.flush();
  };

  receiver.on('message', (data, isBinary) => {
    if (concluded || failed) return;
    const text = !isBinary;
    const { ch, payload } = channelMessage(data, isBinary, base64);
    if (ch !== CH_STDOUT && ch !== CH_STDERR) {
      if (ch === CH_ERROR) {
        flushAll();
        if (payload.length && !client.destroyed) record?.('status', payload);
      }
      sendFrame(data, !text);
      return;
    }
    if (payload.length === 0) {
      sendFrame(data, !text);
      return;
    }
    if (masking === undefined) {
      // Not masked: the message goes out as it came (the same framing and base64 text).
      if (recording && !client.destroyed) copy(ch, recording).push(payload);
      sendFrame(data, !text);
      return;
    }
    const st = channel(ch, text, masking);
    const out = st.masker.push(payload);
    if (out.length) sendOutput(ch, out, text);
    st.idle.touch(st.masker.pending() > 0);
  });
  receiver.on('ping', (data) => {
    if (!client.destroyed) sender.ping(data, false);
  });
  receiver.on('pong', (data) => {
    if (!client.destroyed) sender.pong(data, false);
  });
  receiver.on('conclude', (code, reason) => {
    if (concluded || failed) return;
    flushAll();
    concluded = true;
    if (!client.destroyed) sender.close(code === 1005 ? undefined : code, reason, false);
  });
  receiver.on('error', (err) => fail(err));

  const feed = (c: Buffer): void => {
    // After the close frame the Receiver has ended: anything more from the API server is dropped.
    if (failed || concluded) return;
    receiver.write(c);
    holdWhileClientFull(upstream, client);
  };
  if (opts.head.length) feed(opts.head);
  upstream.on('data', feed);
  upstream.on('end', () => {
    // The API server closed without a close frame: release what is held (masked), then end.
    if (!concluded && !failed) flushAll();
    for (const st of channels.values()) st.idle.cancel();
    client.end();
  });
  upstream.on('close', () => {
    for (const st of channels.values()) st.idle.cancel();
  });

  // The client's half, observed for the recording only (nothing here is forwarded).
  let fromClient: WsReceiver | null = null;
  let clientConcluded = false;
  const observeClient = (chunk: Buffer): void => {
    if (stdin === null || record === undefined || failed || clientConcluded || chunk.length === 0) return;
    if (fromClient === null) {
      // Client frames are not ours to validate beyond framing: text payloads are bytes here.
      const r = new Receiver({ isServer: true, maxPayload: MAX_PAYLOAD, binaryType: 'nodebuffer', skipUTF8Validation: true });
      r.on('message', (data, isBinary) => {
        if (failed) return;
        const { ch, payload } = channelMessage(data, isBinary, base64);
        if (ch === CH_STDIN) stdin.push(payload);
        else if (ch === CH_RESIZE && payload.length) record('resize', payload);
        else if (ch === CH_CLOSE && payload[0] === CH_STDIN) stdin.end();
      });
      r.on('conclude', () => {
        clientConcluded = true;
        stdin.end();
      });
      r.on('error', (err) => fail(new Error(`client frame: ${err.message}`)));
      fromClient = r;
    }
    // A copy: the Receiver unmasks client payloads in place, and `chunk` is also spliced upstream.
    fromClient.write(Buffer.from(chunk));
  };

  return {
    counts: () => sumCounts([...channels.values()].map((s) => s.masker.counts())),
    observeClient,
    finish: endCopies,
  };
}
