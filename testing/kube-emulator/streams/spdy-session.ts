/**
 * A minimal SPDY/3.1 session (server or client side) as moby/spdystream speaks it — the multiplexer
 * under k8s.io/apimachinery/pkg/util/httpstream/spdy that kubectl uses for exec, attach, cp and
 * port-forward (and, tunnelled in WebSocket binary messages, for port-forward since KEP-4006).
 *
 * Framing follows the SPDY Protocol Draft 3.1: control frames (version 3) SYN_STREAM, SYN_REPLY,
 * RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE; data frames with the FIN flag for
 * half-close. Header blocks share one zlib context per direction, primed with the SPDY/3
 * dictionary. spdystream does no flow control, so neither does this: WINDOW_UPDATE and SETTINGS
 * are read and ignored, and never sent (an old Go framer would not know what to do with them).
 *
 * Outgoing header blocks are written as zlib "stored" (uncompressed) deflate blocks, which every
 * zlib reader accepts; incoming ones are inflated with node:zlib over the whole stream so far.
 */
import { PassThrough } from 'node:stream';
import { constants as zc, inflateSync } from 'node:zlib';
import { readSpdyHeaderBlock, SPDY3_DICTIONARY } from '../../../src/protocols/kubernetes/spdy-dictionary.ts';

export const FRAME = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
} as const;

const FLAG_FIN = 0x01;
const RST_CANCEL = 5;
const MAX_DATA = 32 * 1024;

function adler32(buf: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of buf) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** Header-block codec: one zlib stream per direction for the life of the session. */
export class SpdyHeaderCodec {
  private deflateStarted = false;
  private inflateInput: Buffer = Buffer.alloc(0);
  private inflatedLen = 0;

  encode(headers: Iterable<[string, string]>): Buffer {
    const parts: Buffer[] = [];
    const list = [...headers];
    const count = Buffer.alloc(4);
    count.writeUInt32BE(list.length);
    parts.push(count);
    for (const [name, value] of list) {
      for (const s of [name.toLowerCase(), value]) {
        const b = Buffer.from(s, 'utf8');
        const len = Buffer.alloc(4);
        len.writeUInt32BE(b.length);
        parts.push(len, b);
      }
    }
    const raw = Buffer.concat(parts);
    const out: Buffer[] = [];
    if (!this.deflateStarted) {
      this.deflateStarted = true;
      // zlib header: CM=8 CINFO=7, FDICT set, FCHECK making it a multiple of 31; then DICTID.
      const hdr = Buffer.from([0x78, 0x20, 0, 0, 0, 0]);
      hdr.writeUInt32BE(adler32(SPDY3_DICTIONARY), 2);
      out.push(hdr);
    }
    // Non-final stored blocks of at most 65535 bytes each.
    for (let off = 0; off < raw.length || off === 0; off += 0xffff) {
      const chunk = raw.subarray(off, Math.min(raw.length, off + 0xffff));
      const bh = Buffer.alloc(5);
      bh[0] = 0x00;
      bh.writeUInt16LE(chunk.length, 1);
      bh.writeUInt16LE(~chunk.length & 0xffff, 3);
      out.push(bh, chunk);
      if (raw.length === 0) break;
    }
    // An empty stored block, as zlib's Z_SYNC_FLUSH ends with: Go's flate reader hands out what it
    // has decoded only at a flush point like this one.
    out.push(Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]));
    return Buffer.concat(out);
  }

  decode(block: Buffer): Map<string, string> {
    this.inflateInput = Buffer.concat([this.inflateInput, block]);
    const all = inflateSync(this.inflateInput, { dictionary: SPDY3_DICTIONARY, finishFlush: zc.Z_SYNC_FLUSH });
    const raw = all.subarray(this.inflatedLen);
    this.inflatedLen = all.length;
    return readSpdyHeaderBlock(raw);
  }
}

/** Where the session's bytes go: a raw upgraded socket, or WebSocket binary messages. */
export interface SpdyTransport {
  write(data: Buffer): void;
  end(): void;
}

export class SpdyStream {
  /** Data the peer sent on this stream; ends on the peer's FIN or RST_STREAM. */
  readonly incoming = new PassThrough();
  localClosed = false;
  remoteClosed = false;
  replied = false;

  constructor(
    readonly session: SpdySession,
    readonly id: number,
    readonly headers: Map<string, string>,
  ) {}

  header(name: string): string | undefined {
    return this.headers.get(name.toLowerCase());
  }

  /** Send SYN_REPLY (no headers), as spdystream's Stream.SendReply(http.Header{}, false). */
  reply(): void {
    if (this.replied) return;
    this.replied = true;
    this.session.sendControl(FRAME.SYN_REPLY, 0, Buffer.concat([u32(this.id), this.session.codec.encode([])]));
  }

  write(data: Buffer | string): void {
    if (this.localClosed || this.session.closed) return;
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let off = 0; off < buf.length; off += MAX_DATA) {
      this.session.sendData(this.id, buf.subarray(off, off + MAX_DATA), false);
    }
  }

  /** Half-close: a data frame with FIN. */
  end(data?: Buffer | string): void {
    if (data !== undefined && data.length > 0) this.write(data);
    if (this.localClosed) return;
    this.localClosed = true;
    if (!this.session.closed) this.session.sendData(this.id, Buffer.alloc(0), true);
  }

  reset(): void {
    if (!this.localClosed && !this.session.closed) {
      this.session.sendControl(FRAME.RST_STREAM, 0, Buffer.concat([u32(this.id), u32(RST_CANCEL)]));
    }
    this.localClosed = true;
    this.remoteGone();
  }

  remoteGone(): void {
    if (this.remoteClosed) return;
    this.remoteClosed = true;
    this.incoming.end();
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export interface SpdySessionOptions {
  /** Server sessions accept odd stream ids from the client; client sessions create them. */
  server: boolean;
  onStream?: (stream: SpdyStream) => void;
  onClose?: () => void;
}

export class SpdySession {
  readonly codec = new SpdyHeaderCodec();
  readonly streams = new Map<number, SpdyStream>();
  closed = false;
  private buf: Buffer = Buffer.alloc(0);
  private nextId: number;
  private goneAway = false;

  constructor(
    private readonly transport: SpdyTransport,
    private readonly opts: SpdySessionOptions,
  ) {
    this.nextId = opts.server ? 2 : 1;
  }

  /** Feed bytes received from the peer. */
  receive(chunk: Buffer): void {
    if (this.closed) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const len = this.buf.readUIntBE(5, 3);
      if (this.buf.length < 8 + len) break;
      const frame = this.buf.subarray(0, 8 + len);
      this.buf = this.buf.subarray(8 + len);
      try {
        this.handleFrame(frame);
      } catch {
        this.transportClosed();
        this.transport.end();
        return;
      }
    }
  }

  private handleFrame(frame: Buffer): void {
    const flags = frame[4] ?? 0;
    const data = frame.subarray(8);
    if ((frame[0] ?? 0) & 0x80) {
      const type = frame.readUInt16BE(2);
      this.handleControl(type, flags, data);
    } else {
      const id = frame.readUInt32BE(0) & 0x7fffffff;
      const s = this.streams.get(id);
      if (!s) return;
      if (data.length) s.incoming.write(Buffer.from(data));
      if (flags & FLAG_FIN) s.remoteGone();
    }
  }

  private handleControl(type: number, flags: number, data: Buffer): void {
    switch (type) {
      case FRAME.SYN_STREAM: {
        const id = data.readUInt32BE(0) & 0x7fffffff;
        const headers = this.codec.decode(data.subarray(10));
        if (this.goneAway) return;
        const s = new SpdyStream(this, id, headers);
        this.streams.set(id, s);
        if (flags & FLAG_FIN) s.remoteGone();
        this.opts.onStream?.(s);
        return;
      }
      case FRAME.SYN_REPLY: {
        const id = data.readUInt32BE(0) & 0x7fffffff;
        this.codec.decode(data.subarray(4));
        const s = this.streams.get(id);
        if (s) {
          s.replied = true;
          if (flags & FLAG_FIN) s.remoteGone();
        }
        return;
      }
      case FRAME.HEADERS: {
        const id = data.readUInt32BE(0) & 0x7fffffff;
        this.codec.decode(data.subarray(4));
        if (flags & FLAG_FIN) this.streams.get(id)?.remoteGone();
        return;
      }
      case FRAME.RST_STREAM: {
        const id = data.readUInt32BE(0) & 0x7fffffff;
        const s = this.streams.get(id);
        if (s) {
          s.localClosed = true;
          s.remoteGone();
          this.streams.delete(id);
        }
        return;
      }
      case FRAME.PING: {
        const pingId = data.readUInt32BE(0);
        // Echo pings the peer initiated (their parity differs from ours), as spdystream does.
        const ours = this.opts.server ? 0 : 1;
        if ((pingId & 1) !== ours) this.sendControl(FRAME.PING, 0, Buffer.from(data.subarray(0, 4)));
        return;
      }
      case FRAME.GOAWAY:
        this.goneAway = true;
        return;
      default:
        // SETTINGS, WINDOW_UPDATE, CREDENTIAL: no flow control here (spdystream has none either).
        return;
    }
  }

  /** Client side: open a stream (SYN_STREAM) with the given headers. */
  openStream(headers: Record<string, string>, fin = false): SpdyStream {
    const id = this.nextId;
    this.nextId += 2;
    const map = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v] as [string, string]));
    const s = new SpdyStream(this, id, map);
    this.streams.set(id, s);
    const body = Buffer.concat([u32(id), u32(0), Buffer.from([0, 0]), this.codec.encode(map)]);
    this.sendControl(FRAME.SYN_STREAM, fin ? FLAG_FIN : 0, body);
    if (fin) s.localClosed = true;
    return s;
  }

  sendControl(type: number, flags: number, body: Buffer): void {
    if (this.closed) return;
    const h = Buffer.alloc(8);
    h.writeUInt16BE(0x8003, 0);
    h.writeUInt16BE(type, 2);
    h.writeUInt32BE(body.length, 4);
    h[4] = flags;
    this.transport.write(Buffer.concat([h, body]));
  }

  sendData(id: number, data: Buffer, fin: boolean): void {
    if (this.closed) return;
    const h = Buffer.alloc(8);
    h.writeUInt32BE(id & 0x7fffffff, 0);
    h.writeUInt32BE(data.length, 4);
    h[4] = fin ? FLAG_FIN : 0;
    this.transport.write(Buffer.concat([h, data]));
  }

  /** Send GOAWAY (status OK) without closing the transport: the peer closes once it has read all. */
  goAway(): void {
    let last = 0;
    for (const id of this.streams.keys()) if (id % 2 === (this.opts.server ? 1 : 0)) last = Math.max(last, id);
    this.sendControl(FRAME.GOAWAY, 0, Buffer.concat([u32(last), u32(0)]));
  }

  /** The transport is gone: end every stream's incoming side. */
  transportClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) {
      s.localClosed = true;
      s.remoteGone();
    }
    this.opts.onClose?.();
  }

  /** Close the transport now. */
  destroy(): void {
    if (this.closed) return;
    this.transportClosed();
    this.transport.end();
  }
}
