/**
 * Masking of exec/attach output over SPDY/3.1 (kubectl 1.27–1.29, and newer ones falling back):
 * the API server → client half of a remotecommand session, rewriting the DATA frames of the
 * stdout and stderr streams.
 *
 * Is it safe to change DATA frame lengths? SPDY/3.1 (draft 3.1 §2.6.8, §2.6.4) has per-stream and
 * session flow-control windows that a receiver may enforce, which a rewrite that grows a frame
 * could overrun. kubectl and the kubelet speak SPDY through moby/spdystream (via
 * k8s.io/apimachinery/pkg/util/httpstream/spdy, connection.go: `spdystream.NewConnection` and
 * nothing more), and spdystream keeps no window at all: its frame loop (connection.go `Serve` /
 * `frameHandler`, the same in v0.2.0 vendored by kubectl 1.27 and in v0.5.0) hands SETTINGS and
 * WINDOW_UPDATE frames to the default branch ("unhandled frame type", logged and dropped);
 * `handleDataFrame` passes `frame.Data` of any length to the stream's channel with no
 * accounting, and `Stream.WriteData` writes one frame per call without consulting a window. A
 * DATA frame's length field is 24 bits; frames are independent units, and kubectl reads each
 * stream as a byte stream (`Stream.Read`), so the number and sizes of frames carry no meaning.
 * So masking may split, shorten or lengthen stdout/stderr DATA frames, and it does; the emulator
 * (testing/kube-emulator, which mirrors spdystream) and real kubectl 1.27 in
 * test/e2e/exec-masking.test.ts confirm it end to end.
 *
 * Which streams: remotecommand's client opens one stream per channel with a `streamType` header
 * (error, stdin, stdout, stderr, resize). The client → server half stays a byte splice, but it is
 * also read (`observeClient`): the SYN_STREAM header blocks are inflated with the SPDY zlib
 * dictionary (one zlib stream per direction; every header block of that direction is fed to it in
 * order) to learn each stream's type. DATA from the server on a stream known to be stdout or
 * stderr is masked, and so is DATA on a stream whose type is not known (fail closed: header
 * decoding gave up, or a frame arrived first); the error stream (the exit Status) and every
 * control frame go out unchanged. The decision for a stream is taken at its first DATA frame.
 * Without masking (`masking` absent: off or lifted, the session relayed only to be recorded)
 * every frame goes out unchanged.
 *
 * Per masked stream one LineMasker: complete lines at once, a partial line after `idleMs` of
 * quiet (prompts, typed echo), the rest at the stream's FIN (put on the last frame), before its
 * RST_STREAM, and when the connection ends. Frames of other streams are passed through as they
 * arrive; a masked stream's output is written only between whole frames.
 *
 * Recording (`recording`): the stdout and stderr DATA as written to the client (masked when
 * masking applies; without masking, a RecordedCopy masked with the recording's detectors when
 * masking was lifted; a stream of unknown type counts as stdout), the error stream's DATA as
 * `status` (one chunk per frame). From the client's half, which `observeClient` also frames: DATA
 * of the stdin stream goes to stdin's RecordedCopy (masked like output; its FIN ends it), DATA of
 * a stream whose type is not known is recorded as stdin too (fail closed), DATA of the resize
 * stream (JSON `{"Width":…,"Height":…}`) as `resize`, one chunk per frame. The client's bytes
 * themselves are spliced to the API server unchanged and never held here.
 */
import type { Duplex } from 'node:stream';
import { constants as zc, inflateSync } from 'node:zlib';
import { LineMasker } from '../../masking/text/index.ts';
import type { RecordedStream } from '../../audit/types.ts';
import { DEFAULT_EXEC_IDLE_MS, holdWhileClientFull, IdleRelease, RecordedCopy, sumCounts, type ExecMaskingOptions, type ExecRecording, type MaskedRelay } from './exec-masking.ts';
import { readSpdyHeaderBlock, SPDY3_DICTIONARY } from './spdy-dictionary.ts';

const TYPE_SYN_STREAM = 1;
const TYPE_SYN_REPLY = 2;
const TYPE_RST_STREAM = 3;
const TYPE_HEADERS = 8;
const FLAG_FIN = 0x01;

/** Largest DATA frame written (the length field allows 16 MiB - 1). */
const MAX_DATA = 1024 * 1024;
/** Largest control frame held whole (real ones are a few hundred bytes). */
const MAX_CONTROL = 1024 * 1024;
/** Compressed header bytes inflated to learn stream types; past this, new streams count as unknown. */
const MAX_HEADER_INPUT = 256 * 1024;

export interface SpdyMaskedRelay extends MaskedRelay {
  /** The `streamType` the client gave stream `id`, once its SYN_STREAM was read ('' when it had none). */
  streamType(id: number): string | undefined;
}

/** A piece of a DATA frame the client sent: `end` on its last piece, `fin` when that frame ends the stream. */
type ClientData = (id: number, piece: Buffer, end: boolean, fin: boolean) => void;

/** Reads the client's frames: stream types from its SYN_STREAMs and, when asked, the DATA it sends. */
class ClientFrames {
  readonly types = new Map<number, string>();
  private header = Buffer.alloc(0);
  private payload: Buffer[] = [];
  private need = 0;
  private skip = 0;
  private frameType = 0;
  /** The DATA frame being read: stream, bytes left, flags. */
  private dataId = 0;
  private dataLeft = 0;
  private dataFlags = 0;
  private inflateInput = Buffer.alloc(0);
  private inflated = 0;
  /** Header decoding gave up (framing goes on): streams opened from now on have no known type. */
  private headersOff = false;

  constructor(private readonly onData?: ClientData) {}

  feed(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - off);
        this.skip -= n;
        off += n;
        continue;
      }
      if (this.dataLeft > 0) {
        const n = Math.min(this.dataLeft, chunk.length - off);
        this.dataLeft -= n;
        const end = this.dataLeft === 0;
        this.onData!(this.dataId, chunk.subarray(off, off + n), end, end && (this.dataFlags & FLAG_FIN) !== 0);
        off += n;
        continue;
      }
      if (this.need > 0) {
        const n = Math.min(this.need, chunk.length - off);
        this.payload.push(chunk.subarray(off, off + n));
        this.need -= n;
        off += n;
        if (this.need === 0) this.frame(Buffer.concat(this.payload));
        continue;
      }
      const n = Math.min(8 - this.header.length, chunk.length - off);
      this.header = Buffer.concat([this.header, chunk.subarray(off, off + n)]);
      off += n;
      if (this.header.length < 8) continue;
      const h = this.header;
      this.header = Buffer.alloc(0);
      const len = h.readUIntBE(5, 3);
      const control = (h[0]! & 0x80) !== 0;
      if (!control) {
        if (this.onData === undefined) this.skip = len;
        else if (len === 0) this.onData(h.readUInt32BE(0) & 0x7fffffff, Buffer.alloc(0), true, (h[4]! & FLAG_FIN) !== 0);
        else {
          this.dataId = h.readUInt32BE(0) & 0x7fffffff;
          this.dataFlags = h[4]!;
          this.dataLeft = len;
        }
        continue;
      }
      this.frameType = h.readUInt16BE(2);
      const wanted = this.frameType === TYPE_SYN_STREAM || this.frameType === TYPE_SYN_REPLY || this.frameType === TYPE_HEADERS;
      if (!wanted || this.headersOff) this.skip = len;
      else if (len > MAX_CONTROL) {
        // A header block not read breaks the session's zlib stream: no more types.
        this.headersOff = true;
        this.skip = len;
      } else if (len === 0) this.frame(Buffer.alloc(0));
      else {
        this.need = len;
        this.payload = [];
      }
    }
  }

  private frame(p: Buffer): void {
    this.payload = [];
    const at = this.frameType === TYPE_SYN_STREAM ? 10 : 4;
    if (p.length < at) return;
    const headers = this.decode(p.subarray(at));
    if (headers !== null && this.frameType === TYPE_SYN_STREAM) {
      const id = p.readUInt32BE(0) & 0x7fffffff;
      this.types.set(id, (headers.get('streamtype') ?? '').toLowerCase());
    }
  }

  /**
   * Inflates the next header block. The zlib stream spans the session, so the input so far is
   * inflated again (a handful of small blocks per exec session, bounded by MAX_HEADER_INPUT).
   */
  private decode(block: Buffer): Map<string, string> | null {
    if (this.inflateInput.length + block.length > MAX_HEADER_INPUT) {
      this.headersOff = true;
      return null;
    }
    this.inflateInput = Buffer.concat([this.inflateInput, block]);
    let all: Buffer;
    try {
      all = inflateSync(this.inflateInput, { dictionary: SPDY3_DICTIONARY, finishFlush: zc.Z_SYNC_FLUSH });
    } catch {
      this.headersOff = true;
      return null;
    }
    const raw = all.subarray(this.inflated);
    this.inflated = all.length;
    return readSpdyHeaderBlock(raw);
  }
}

interface MaskedStream {
  masker: LineMasker;
  idle: IdleRelease;
}

/**
 * Relays `upstream` → `client` (bytes after the 101, `head` first) as SPDY frames, masking the
 * DATA of stdout and stderr when `masking` is given (unchanged otherwise); records the session
 * when `recording` is given. Feed the client's bytes to `observeClient`. `fail` is called once on a
 * frame the relay cannot handle. Ends `client` when `upstream` ends.
 */
export function relayMaskedSpdy(opts: {
  upstream: Duplex;
  client: Duplex;
  head: Buffer;
  /** Absent: no masking (the session is relayed only to be recorded). */
  masking?: ExecMaskingOptions;
  recording?: ExecRecording;
  fail: (err: Error) => void;
}): SpdyMaskedRelay {
  const { upstream, client, masking, recording } = opts;
  const record = recording?.record;
  const idleMs = masking?.idleMs ?? DEFAULT_EXEC_IDLE_MS;
  const stdin = recording ? new RecordedCopy(recording.masking, (b) => recording.record('stdin', b)) : null;
  /** Client DATA on streams of unknown type, recorded as stdin too (its own line state and end). */
  const unknownIn = recording ? new RecordedCopy(recording.masking, (b) => recording.record('stdin', b)) : null;
  /** Recorded copies of output the client gets unmasked, per recorded stream. */
  const copies = new Map<RecordedStream, RecordedCopy>();
  const copy = (kind: RecordedStream, rec: ExecRecording): RecordedCopy => {
    let c = copies.get(kind);
    if (c === undefined) {
      c = new RecordedCopy(rec.masking, (b) => rec.record(kind, b));
      copies.set(kind, c);
    }
    return c;
  };
  const endCopies = (): void => {
    for (const c of copies.values()) c.end();
    stdin?.end();
    unknownIn?.end();
  };
  /** The resize frame being read from the client. */
  let resize: Buffer[] = [];
  const fromClient = (id: number, piece: Buffer, end: boolean, fin: boolean): void => {
    if (record === undefined || stdin === null) return;
    const t = types.types.get(id);
    if (t === 'resize') {
      if (piece.length) resize.push(piece);
      if (end && resize.length) {
        record('resize', Buffer.concat(resize));
        resize = [];
      }
    } else if (t === 'stdin') {
      stdin.push(piece);
      if (fin) stdin.end();
    } else if (t === undefined || t === '') unknownIn?.push(piece);
  };
  const types = new ClientFrames(record ? fromClient : undefined);
  const streams = new Map<number, MaskedStream>();
  const decided = new Map<number, boolean>();
  const finished: MaskedStream[] = [];
  /** Idle releases that came due while a passed-through frame was half written. */
  const due = new Set<number>();
  let failed = false;
  let ended = false;

  // Parser state of the upstream direction.
  let header = Buffer.alloc(0);
  let mode: 'head' | 'pass' | 'mask' | 'control' = 'head';
  let remaining = 0;
  let curId = 0;
  let curFlags = 0;
  let control: Buffer[] = [];
  /** How the frame being passed through is recorded, and the error stream's frame so far. */
  let passKind: RecordedStream | null = null;
  let status: Buffer[] = [];

  /** What the server's DATA on stream `id` is in the recording (null: not recorded). */
  const recordedKind = (id: number): RecordedStream | null => {
    const t = types.types.get(id);
    if (t === 'stderr') return 'stderr';
    if (t === 'error') return 'status';
    if (t === 'stdin' || t === 'resize') return null;
    return 'stdout';
  };

  const write = (b: Buffer): void => {
    if (!client.destroyed) client.write(b);
  };
  const writeData = (id: number, data: Buffer, flags: number): void => {
    let off = 0;
    do {
      const n = Math.min(MAX_DATA, data.length - off);
      const last = off + n >= data.length;
      const h = Buffer.alloc(8);
      h.writeUInt32BE(id & 0x7fffffff, 0);
      h.writeUInt32BE(n, 4);
      h[4] = last ? flags : flags & ~FLAG_FIN;
      write(n ? Buffer.concat([h, data.subarray(off, off + n)]) : h);
      off += n;
    } while (off < data.length);
  };
  /** Masked output as the client gets it: recorded, then written. */
  const writeOutput = (id: number, data: Buffer, flags: number): void => {
    if (data.length && !client.destroyed) record?.(recordedKind(id) === 'stderr' ? 'stderr' : 'stdout', data);
    writeData(id, data, flags);
  };
  const release = (id: number): void => {
    const st = streams.get(id);
    if (st === undefined || failed || ended) return;
    if (mode === 'pass') {
      due.add(id);
      return;
    }
    const part = st.masker.releasePartial();
    if (part.length) writeOutput(id, part, 0);
  };
  const isMasked = (id: number): boolean => {
    let m = decided.get(id);
    if (m === undefined) {
      const t = types.types.get(id);
      m = masking !== undefined && (t === undefined || t === 'stdout' || t === 'stderr');
      decided.set(id, m);
    }
    return m;
  };
  const stream = (id: number, m: ExecMaskingOptions): MaskedStream => {
    let st = streams.get(id);
    if (st === undefined) {
      st = { masker: new LineMasker({ detectors: m.detectors, maxLineBytes: m.maxLineBytes }), idle: new IdleRelease(idleMs, () => release(id)) };
      streams.set(id, st);
    }
    return st;
  };
  const closeStream = (id: number, flags: number | null): void => {
    const st = streams.get(id);
    if (st === undefined) {
      if (flags !== null) writeData(id, Buffer.alloc(0), flags);
      return;
    }
    st.idle.cancel();
    const out = st.masker.flush();
    if (flags !== null) writeOutput(id, out, flags);
    else if (out.length) writeOutput(id, out, 0);
    streams.delete(id);
    finished.push(st);
  };
  const frameDone = (): void => {
    if (mode === 'pass' && status.length) {
      // The exit Status comes after all output: what the copies hold is recorded first.
      for (const c of copies.values()) c.flush();
      if (!client.destroyed) record?.('status', Buffer.concat(status));
      status = [];
    }
    mode = 'head';
    if (due.size) {
      const ids = [...due];
      due.clear();
      for (const id of ids) release(id);
    }
  };
  const onControl = (frame: Buffer): void => {
    const type = frame.readUInt16BE(2);
    if (type === TYPE_RST_STREAM && frame.length >= 12) {
      const id = frame.readUInt32BE(8) & 0x7fffffff;
      if (streams.has(id)) closeStream(id, null);
    }
    write(frame);
  };

  const feed = (chunk: Buffer): void => {
    let off = 0;
    while (off < chunk.length && !failed) {
      if (mode === 'head') {
        const n = Math.min(8 - header.length, chunk.length - off);
        header = header.length ? Buffer.concat([header, chunk.subarray(off, off + n)]) : Buffer.from(chunk.subarray(off, off + n));
        off += n;
        if (header.length < 8) continue;
        const h = header;
        header = Buffer.alloc(0);
        const len = h.readUIntBE(5, 3);
        if ((h[0]! & 0x80) !== 0) {
          if (len > MAX_CONTROL) {
            failed = true;
            opts.fail(new Error(`SPDY control frame of ${len} bytes from the API server`));
            return;
          }
          control = [h];
          remaining = len;
          mode = 'control';
          if (len === 0) {
            onControl(h);
            frameDone();
          }
          continue;
        }
        curId = h.readUInt32BE(0) & 0x7fffffff;
        curFlags = h[4]!;
        remaining = len;
        if (!isMasked(curId)) {
          write(h);
          mode = 'pass';
          passKind = record ? recordedKind(curId) : null;
          if (len === 0) frameDone();
          continue;
        }
        mode = 'mask';
        if (len === 0) {
          if (curFlags & FLAG_FIN) closeStream(curId, curFlags);
          else write(h);
          frameDone();
        }
        continue;
      }
      const n = Math.min(remaining, chunk.length - off);
      const piece = chunk.subarray(off, off + n);
      off += n;
      remaining -= n;
      if (mode === 'control') {
        control.push(piece);
        if (remaining === 0) {
          onControl(Buffer.concat(control));
          control = [];
          frameDone();
        }
      } else if (mode === 'pass') {
        write(piece);
        if (passKind === 'status') status.push(piece);
        else if (passKind !== null && recording && !client.destroyed) copy(passKind, recording).push(piece);
        if (remaining === 0) frameDone();
      } else {
        const st = stream(curId, masking!);
        const out = st.masker.push(piece);
        if (out.length) writeOutput(curId, out, curFlags & ~FLAG_FIN);
        if (remaining === 0) {
          if (curFlags & FLAG_FIN) closeStream(curId, curFlags);
          else st.idle.touch(st.masker.pending() > 0);
          frameDone();
        }
      }
    }
    holdWhileClientFull(upstream, client);
  };

  if (opts.head.length) feed(opts.head);
  upstream.on('data', feed);
  upstream.on('end', () => {
    // Release what the maskers hold — between frames only; a frame cut off mid-way ends as it is.
    if (!failed && mode !== 'pass') for (const id of [...streams.keys()]) closeStream(id, null);
    for (const c of copies.values()) c.flush();
    ended = true;
    for (const st of streams.values()) st.idle.cancel();
    client.end();
  });
  upstream.on('close', () => {
    ended = true;
    for (const st of streams.values()) st.idle.cancel();
  });

  return {
    observeClient: (c) => types.feed(c),
    streamType: (id) => types.types.get(id),
    counts: () => sumCounts([...finished, ...streams.values()].map((s) => s.masker.counts())),
    finish: endCopies,
  };
}
