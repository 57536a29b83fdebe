/**
 * What exec/attach output masking and terminal recording need, shared by the WebSocket relay
 * (ws-exec-masking.ts) and the SPDY/3.1 relay (spdy-exec-masking.ts), and the rule of which
 * upgrades are masked and recorded: exec and attach (their stdout and stderr; recorded: stdin,
 * stdout, stderr, resize and the exit Status), never port-forward (a byte stream of some other
 * protocol).
 *
 * Recording (issue #6, ADR 0002 Decision 5): each relay calls `record(stream, bytes)` with the
 * output exactly as it writes it to the client when the session is masked, the error channel's
 * Status and every resize message. The client's stdin is forwarded to the API server unchanged;
 * only its recorded copy goes through a RecordedCopy: the same line masker (value detectors, idle
 * release of a partial line) as the output, so a token pasted into a shell is recorded as
 * `[MASKED:…]`. When the client's output is not masked the relays pass every byte through
 * unchanged and still record: when a policy rule lifted masking, the recorded copy of the output
 * is masked too (SECURITY.md: audit records never hold unmasked secrets — the session stays
 * replayable, masked); when masking is off for the gateway, everything is recorded as it is.
 */
import type { Duplex } from 'node:stream';
import type { RecordedStream } from '../../audit/types.ts';
import type { DetectorSet } from '../../masking/detectors/index.ts';
import { LineMasker, type TextMaskCounts } from '../../masking/text/index.ts';
import type { KubeContext } from './pipeline/context.ts';

/** The subresources whose output is masked when masking applies. */
const MASKED_SUBRESOURCES = new Set(['exec', 'attach']);

/** Whether an upgrade of this request carries exec/attach output (masked when detectors are given). */
export function isExecOrAttach(ctx: KubeContext): boolean {
  const sub = ctx.attributes?.subresource ?? ctx.info?.subresource ?? '';
  return (ctx.attributes?.resource ?? ctx.info?.resource) === 'pods' && MASKED_SUBRESOURCES.has(sub);
}

/** Options of exec/attach output masking (WebSocket and SPDY). */
export interface ExecMaskingOptions {
  detectors: DetectorSet;
  /** Longest partial line held per stream (default 1 MiB). */
  maxLineBytes?: number;
  /** Quiet time after which a held partial line is released (default 25 ms; 0: only at line end). */
  idleMs?: number;
}

export const DEFAULT_EXEC_IDLE_MS = 25;

/** Takes one recorded piece of a session (AuditHandle.record). */
export type ExecRecord = (stream: RecordedStream, data: Buffer) => void;

/** The recording of a session. */
export interface ExecRecording {
  record: ExecRecord;
  /**
   * Masking of the recorded copies: stdin's, and the output's when the client receives it
   * unmasked (masking lifted). Absent: copies are recorded as they are (masking off).
   */
  masking?: ExecMaskingOptions;
}

/** The relayed half of a session. */
export interface MaskedRelay {
  /** Findings per detector and lines over the bound, over all masked output streams (not stdin's record). */
  counts(): TextMaskCounts;
  /**
   * Bytes the client sent (also spliced to the API server unchanged): read for stdin and resize
   * (recorded sessions) and, over SPDY, for the stream types.
   */
  observeClient(chunk: Buffer): void;
  /** The session ended: records what the stdin recorder still holds and stops its timers. Idempotent. */
  finish(): void;
}

/** Idle release of one stream's partial line: debounced by `idleMs`, at most 8 × `idleMs` late. */
export class IdleRelease {
  private timer: NodeJS.Timeout | null = null;
  private since = 0;

  constructor(
    private readonly idleMs: number,
    private readonly fire: () => void,
  ) {}

  /** Call after input: (re)arms the timer while something is held. */
  touch(held: boolean): void {
    if (this.idleMs <= 0) return;
    if (!held) {
      this.cancel();
      return;
    }
    const now = Date.now();
    if (this.timer === null) this.since = now;
    else clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.idleMs, this.since + 8 * this.idleMs - now));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.fire();
    }, wait);
  }

  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** Backpressure of a relay: stop reading the API server while the client's socket is full. */
export function holdWhileClientFull(upstream: Duplex, client: Duplex): void {
  if (client.writableNeedDrain && !upstream.isPaused()) {
    upstream.pause();
    client.once('drain', () => upstream.resume());
  }
}

/** Sums the counts of several maskers. */
export function sumCounts(list: Iterable<TextMaskCounts>): TextMaskCounts {
  const out: TextMaskCounts = { detectors: {}, oversizeLines: 0 };
  for (const c of list) {
    out.oversizeLines += c.oversizeLines;
    for (const [k, v] of Object.entries(c.detectors)) out.detectors[k] = (out.detectors[k] ?? 0) + v;
  }
  return out;
}


/**
 * The recorded copy of a stream whose bytes go on unchanged (stdin to the API server; output to
 * the client when its masking was lifted): masked like output (complete lines at once, a partial
 * line — typed keys, a prompt — after `idleMs` of quiet), or handed on as it is without
 * `masking`. What it hands to `record` is only the recording's.
 */
export class RecordedCopy {
  private readonly masker: LineMasker | null;
  private readonly idle: IdleRelease | null;
  private ended = false;

  constructor(
    masking: ExecMaskingOptions | undefined,
    private readonly record: (data: Buffer) => void,
  ) {
    this.masker = masking ? new LineMasker({ detectors: masking.detectors, maxLineBytes: masking.maxLineBytes }) : null;
    this.idle = this.masker
      ? new IdleRelease(masking?.idleMs ?? DEFAULT_EXEC_IDLE_MS, () => {
          if (!this.ended) this.emit(this.masker!.releasePartial());
        })
      : null;
  }

  push(data: Buffer): void {
    if (this.ended || data.length === 0) return;
    if (this.masker === null) {
      this.record(data);
      return;
    }
    this.emit(this.masker.push(data));
    this.idle!.touch(this.masker.pending() > 0);
  }

  /** Records what is held now (masked); the stream may go on. */
  flush(): void {
    if (this.ended) return;
    this.idle?.cancel();
    if (this.masker !== null) this.emit(this.masker.flush());
  }

  /** The stream (or the session) ended: the held rest is recorded; later bytes are ignored. */
  end(): void {
    this.flush();
    this.ended = true;
  }

  private emit(b: Buffer): void {
    if (b.length) this.record(b);
  }
}
