/**
 * Masking of exec/attach output over WebSocket: the API server → client half of a remotecommand
 * session (KEP-4006; `v5.channel.k8s.io` … `channel.k8s.io` and the `base64.` variants, as
 * k8s.io/apiserver/pkg/util/wsstream and client-go tools/remotecommand speak them).
 *
 * The upstream bytes are parsed into messages by `ws`'s Receiver (RFC 6455 framing, client side:
 * server frames are unmasked; fragments reassembled; a protocol violation ends the session) and
 * written again by `ws`'s Sender. Each binary message starts with its channel byte (0 stdin,
 * 1 stdout, 2 stderr, 3 error, 4 resize, v5: 255 close); the base64 protocols send text messages
 * `<digit><base64 payload>`. stdout and stderr payloads go through one LineMasker each (every
 * complete line at once; a partial line — a shell prompt, typed echo — after `idleMs` of quiet);
 * every other channel, empty messages (the "stream open" signal) and control frames (ping, pong,
 * close) go out unchanged. Before the error channel's Status (the command has ended) and before
 * the close frame, what the maskers hold is released. Compression is never negotiated on a
 * masked session (forward-upgrade.ts drops `Sec-WebSocket-Extensions`); a 101 that still names an
 * extension is refused there. The client → API server half stays a byte splice.
 */
import type { Duplex } from 'node:stream';
import * as wsModule from 'ws';
import { LineMasker } from '../../masking/text/index.ts';
import { DEFAULT_EXEC_IDLE_MS, holdWhileClientFull, IdleRelease, sumCounts, type ExecMaskingOptions, type MaskedRelay } from './exec-masking.ts';

/** The largest message accepted from the API server (it sends at most 32 KiB of output per message). */
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
  Receiver: new (opts: { isServer: boolean; maxPayload: number; binaryType?: 'nodebuffer' }) => WsReceiver;
  Sender: new (socket: Duplex, extensions?: Record<string, unknown>, generateMask?: unknown) => WsSender;
};

const CH_STDOUT = 1;
const CH_STDERR = 2;
const CH_ERROR = 3;

interface ChannelState {
  masker: LineMasker;
  idle: IdleRelease;
  /** Framing of the channel's last message: text (base64 protocols) or binary. */
  text: boolean;
}

/**
 * Relays `upstream` → `client` (bytes after the 101, `head` first) as WebSocket messages, masking
 * stdout and stderr. `fail` is called once on a framing error (then the caller tears both down).
 * Ends `client` when `upstream` ends.
 */
export function relayMaskedWebSocket(opts: {
  protocol: string;
  upstream: Duplex;
  client: Duplex;
  head: Buffer;
  masking: ExecMaskingOptions;
  fail: (err: Error) => void;
}): MaskedRelay {
  const { upstream, client, masking } = opts;
  const base64 = opts.protocol.toLowerCase().includes('base64');
  const idleMs = masking.idleMs ?? DEFAULT_EXEC_IDLE_MS;
  const receiver = new Receiver({ isServer: false, maxPayload: MAX_PAYLOAD, binaryType: 'nodebuffer' });
  const sender = new Sender(client, {}, undefined);
  const channels = new Map<number, ChannelState>();
  let concluded = false;
  let failed = false;

  const sendFrame = (data: Buffer | string, binary: boolean): void => {
    if (client.destroyed) return;
    sender.send(data, { binary, fin: true, mask: false, compress: false });
  };
  const sendChannel = (ch: number, payload: Buffer, text: boolean): void => {
    if (text && base64) sendFrame(`${ch}${payload.toString('base64')}`, false);
    else sendFrame(Buffer.concat([Buffer.from([ch]), payload]), !text);
  };
  const channel = (ch: number, text: boolean): ChannelState => {
    let st = channels.get(ch);
    if (st === undefined) {
      const masker = new LineMasker({ detectors: masking.detectors, maxLineBytes: masking.maxLineBytes });
      const created: ChannelState = {
        masker,
        text,
        idle: new IdleRelease(idleMs, () => {
          if (concluded || failed) return;
          const part = masker.releasePartial();
          if (part.length) sendChannel(ch, part, created.text);
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
      if (out.length) sendChannel(ch, out, st.text);
    }
  };

  receiver.on('message', (data, isBinary) => {
    if (concluded || failed) return;
    const text = !isBinary;
    const ch = data.length === 0 ? -1 : text && base64 ? data[0]! - 0x30 : data[0]!;
    if (ch !== CH_STDOUT && ch !== CH_STDERR) {
      if (ch === CH_ERROR) flushAll();
      sendFrame(data, !text);
      return;
    }
    const payload = text && base64 ? Buffer.from(data.subarray(1).toString('latin1'), 'base64') : data.subarray(1);
    if (payload.length === 0) {
      sendFrame(data, !text);
      return;
    }
    const st = channel(ch, text);
    const out = st.masker.push(payload);
    if (out.length) sendChannel(ch, out, text);
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
  receiver.on('error', (err) => {
    if (failed) return;
    failed = true;
    for (const st of channels.values()) st.idle.cancel();
    opts.fail(err);
  });

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

  return { counts: () => sumCounts([...channels.values()].map((s) => s.masker.counts())) };
}
