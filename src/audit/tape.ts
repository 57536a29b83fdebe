/**
 * The recording of one request's bodies and terminal streams, between writes (issue #6): chunks
 * wait here, numbered and timestamped (µs since the request began), until the recorder hands
 * them to the store with the next write — the begin, a `body.segment`, or the outcome — and each
 * stream keeps its running digest (body-digest.ts) and sizes: what the next event commits to.
 *
 * Caps: past its stream's cap (request body, response, or the terminal's streams together) a
 * stream keeps only counting: `totalBytes` goes on, no chunk is stored, and `truncated` is set.
 * A chunk that crosses the cap is stored up to it. The digest covers what is stored, so the
 * chunks in the store can always be checked against the chain. Bytes the client received
 * unmasked (policy lifted masking) are only counted: the stream is marked `withheld`.
 */
import { BodyDigest } from './trail/body-digest.ts';
import type { BodyCommitment, BodyCommitments } from './trail/trail-events.ts';
import type { RecordingOptions } from './recorder.ts';
import type { RecordedStream } from './types.ts';
import type { NumberedChunk, RecordingWrite } from '../store/audit-store.ts';

type CapGroup = 'request' | 'response' | 'terminal';

const GROUP: Record<RecordedStream, CapGroup> = {
  request: 'request',
  response: 'response',
  stdin: 'terminal',
  stdout: 'terminal',
  stderr: 'terminal',
  resize: 'terminal',
  status: 'terminal',
};

interface StreamState {
  digest: BodyDigest;
  totalBytes: number;
  truncated: boolean;
  withheld: boolean;
}

export class Tape {
  readonly #caps: Record<CapGroup, number>;
  readonly #started = process.hrtime.bigint();
  readonly #streams = new Map<RecordedStream, StreamState>();
  readonly #used: Record<CapGroup, number> = { request: 0, response: 0, terminal: 0 };
  #pending: NumberedChunk[] = [];
  #pendingBytes = 0;
  #n = 0;
  #changed = false;

  constructor(opts: RecordingOptions) {
    this.#caps = { request: opts.maxRequestBytes, response: opts.maxResponseBytes, terminal: opts.maxTerminalBytes };
  }

  get pendingChunks(): number {
    return this.#pending.length;
  }

  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Something was recorded or counted since the last take (a segment has news to commit). */
  get changed(): boolean {
    return this.#changed;
  }

  #stream(stream: RecordedStream): StreamState {
    let s = this.#streams.get(stream);
    if (!s) this.#streams.set(stream, (s = { digest: new BodyDigest(), totalBytes: 0, truncated: false, withheld: false }));
    return s;
  }

  /** Bytes sent but not to be stored (unmasked by policy): counted, and the stream marked `withheld`. */
  withhold(stream: RecordedStream, bytes: number): void {
    const s = this.#stream(stream);
    s.totalBytes += bytes;
    s.withheld = true;
    this.#changed = true;
  }

  add(stream: RecordedStream, data: Buffer): void {
    const s = this.#stream(stream);
    s.totalBytes += data.length;
    this.#changed = true;
    const group = GROUP[stream];
    const room = this.#caps[group] - this.#used[group];
    if (room <= 0) {
      s.truncated = true;
      return;
    }
    const kept = data.length > room ? data.subarray(0, room) : data;
    if (kept !== data) s.truncated = true;
    this.#used[group] += kept.length;
    const tUs = Number((process.hrtime.bigint() - this.#started) / 1000n);
    s.digest.update(tUs, kept);
    this.#pending.push({ stream, tUs, n: this.#n++, data: kept });
    this.#pendingBytes += kept.length;
  }

  /** The chunks recorded since the last take, and what the trail commits to for every stream so far. */
  take(): RecordingWrite {
    const chunks = this.#pending;
    this.#pending = [];
    this.#changed = false;
    this.#pendingBytes = 0;
    return this.#streams.size ? { chunks, bodies: this.commitments() } : { chunks };
  }

  commitments(): BodyCommitments {
    const out: BodyCommitments = {};
    for (const [stream, s] of this.#streams) {
      const c: BodyCommitment = {
        chunks: s.digest.chunks,
        recordedBytes: s.digest.bytes,
        totalBytes: s.totalBytes,
        truncated: s.truncated,
        digest: s.digest.hex(),
        ...(s.withheld ? { withheld: true } : {}),
      };
      out[stream] = c;
    }
    return out;
  }
}
