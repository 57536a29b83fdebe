/**
 * The line masker of text streams (issue #5: `logs`, `logs -f`, exec/attach stdout and stderr):
 * bytes in, masked bytes out, line by line, never the whole response in memory. No streams and no
 * timers here — create-text-masker.ts wraps it as a Transform, the exec/attach relays
 * (src/protocols/kubernetes/ws-exec-masking.ts, spdy-exec-masking.ts) drive it per channel.
 *
 * Lines and chunks
 * - `push()` releases every complete line (ending in `\n`; a `\r\n` ending stays intact) at once,
 *   masked by the value detectors; the incomplete rest is held, so a secret split across chunks —
 *   at any byte, also inside a multi-byte UTF-8 character — is masked as a whole and never
 *   released in part. Lines are split on the byte 0x0A, which never occurs inside a UTF-8
 *   sequence. Runs of complete lines the prefilter (`maybe()`) clears go out as the received
 *   bytes; a line without findings goes out byte for byte.
 * - A line that is not valid UTF-8 (binary output, `tar` of `kubectl cp`) is scanned as Latin-1:
 *   one character per byte, so the bytes outside a finding go out unchanged; the built-in
 *   detectors look for ASCII only and find the same things.
 * - A finding can run over a line end (a PEM private key is many lines): when masking swallowed a
 *   line's terminator, the line stays the context of the next one, whose continuation of the
 *   finding is dropped (`cat key.pem` prints one `[MASKED:private-key-block]` line).
 *
 * Released text as context. After text of a line has been released early (below), the line's
 * released text — at most `contextChars`: the longest possible match plus 1 KiB for
 * lookbehinds — stays as context: new text is masked by the findings in context + new text, and
 * only new text is ever replaced. A finding that starts in released text masks its new part
 * (`aws_secret_access_key = ` released, then the value: the value is masked, the name is needed
 * to recognise it); if the released part already ended in a marker, the continuation is dropped
 * without a second marker.
 *
 * Idle release (`releasePartial()`, the caller decides when: exec with a TTY echoes typed keys one
 * by one and a shell prompt has no newline). It releases the held text of the line, masked with
 * what is known. Trade-off: text already released cannot be recalled, so a secret written in two
 * pieces with an idle gap between them shows its first piece (the rest is masked as above). Use
 * it only for interactive streams, never for logs.
 *
 * The line bound (`maxLineBytes`, default 1 MiB). An incomplete line held beyond the bound is cut:
 * everything but a lookahead tail is released, masked with the tail as lookahead — a finding that
 * crosses the cut is masked whole and released with it — and the tail stays held. The lookahead
 * is the longest possible match plus 1 KiB, at most half the bound, so nothing more than the
 * bound is ever held, and with the defaults (matches of at most ~83 k characters, 1 MiB lines)
 * every finding is seen whole. When the lookahead is shorter than the longest possible match (a
 * small bound, or an operator rule without an upper bound) a long secret could cross the cut
 * unseen: then the run of non-blank characters that the cut splits is masked as
 * `[MASKED:oversize-line]` on both sides of the cut, up to the next blank (conservative: a long
 * base64 blob or minified JSON line loses that run). Lines over the bound are counted
 * (`oversizeLines`). Memory per masker: at most `maxLineBytes` held plus `contextChars` of context.
 */
import { isUtf8 } from 'node:buffer';
import { maskMarker, type DetectorSet, type FindingRange } from '../detectors/index.ts';

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

/** Characters of released text kept beyond the longest match: the detectors' lookbehinds read up to ~520. */
const CONTEXT_MARGIN = 1024;

/** Runs of complete lines at most this long are masked line by line rather than halved again. */
const SPLIT_MIN_BYTES = 2048;

/** The marker name of a run cut by the line bound (see the header). */
export const OVERSIZE_MARKER_NAME = 'oversize-line';

export interface LineMaskerOptions {
  detectors: DetectorSet;
  /** Longest incomplete line held for masking (default 1 MiB; at least 64). */
  maxLineBytes?: number;
}

/** What a masker masked so far: findings per detector and lines over the bound. */
export interface TextMaskCounts {
  detectors: Record<string, number>;
  oversizeLines: number;
}

type Enc = 'utf8' | 'latin1';

const EMPTY = Buffer.alloc(0);

interface Range extends FindingRange {
  /** Continues a run masked at the previous cut (no second marker after a marker). */
  cont?: boolean;
}

function isBlank(c: number): boolean {
  return c <= 0x20;
}

/** Bytes at the end of `b` that start a UTF-8 sequence the buffer does not complete (0–3). */
function incompleteTail(b: Buffer): number {
  const n = b.length;
  for (let k = 1; k <= Math.min(3, n); k++) {
    const c = b[n - k]!;
    if ((c & 0xc0) === 0x80) continue; // continuation byte: look further back
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return need > k ? k : 0;
  }
  return 0;
}

export class LineMasker {
  readonly maxLineBytes: number;
  /** Released text kept as context (characters). */
  readonly contextChars: number;
  private readonly set: DetectorSet;
  /** Bytes kept held after a cut at the bound. */
  private readonly lookahead: number;
  /** The lookahead may be shorter than a match: mask runs split by a cut. */
  private readonly guardRuns: boolean;

  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Bytes of the current line so far (released and held). */
  private lineBytes = 0;
  private lineCounted = false;
  /** Raw text released before the held text (this line's, or a previous line's a finding runs on from). */
  private ctx = '';
  private carried = false;
  /** The last release ended in a marker. */
  private openMask = false;
  /** The last cut split a run that goes on masked. */
  private runCont = false;
  private readonly hits: Record<string, number> = {};
  private oversize = 0;

  constructor(opts: LineMaskerOptions) {
    this.set = opts.detectors;
    this.maxLineBytes = Math.max(64, Math.floor(opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES));
    const longest = opts.detectors.maxMatchLength;
    const want = Number.isFinite(longest) ? longest + CONTEXT_MARGIN : Infinity;
    this.contextChars = Number.isFinite(want) ? want : this.maxLineBytes;
    this.lookahead = Math.min(want, Math.floor(this.maxLineBytes / 2));
    this.guardRuns = this.lookahead < want;
  }

  /** Takes the next bytes; returns what can be released now, masked (complete lines). */
  push(chunk: Buffer): Buffer {
    if (chunk.length === 0) return EMPTY;
    const out: Buffer[] = [];
    let from = 0;
    const last = chunk.lastIndexOf(0x0a);
    if (last >= 0) {
      const line = (): void => {
        const nl = chunk.indexOf(0x0a, from);
        const piece = chunk.subarray(from, nl + 1);
        from = nl + 1;
        const whole = this.heldBytes ? Buffer.concat([...this.held, piece]) : piece;
        this.lineBytes += piece.length;
        this.held = [];
        this.heldBytes = 0;
        out.push(this.finishLine(whole));
      };
      // The line held from the previous chunk (network chunks rarely end on a newline) is
      // finished first, so that the lines after it can take the fast path below.
      if (this.heldBytes > 0 || this.carried) line();
      if (from <= last) this.completeLines(chunk.subarray(from, last + 1), out);
      from = last + 1;
    }
    if (from < chunk.length) {
      const rest = Buffer.from(chunk.subarray(from));
      this.held.push(rest);
      this.heldBytes += rest.length;
      this.lineBytes += rest.length;
      if (this.heldBytes > this.maxLineBytes) {
        this.countOversize();
        out.push(this.cut());
      }
    }
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  /**
   * Complete lines, nothing held before them: a run the prefilter clears goes out as it came; a
   * run where it fires is halved at a line end until the halves are clear or small, and only
   * those small runs are masked line by line. One finding in a 64 KiB chunk of short log lines
   * thus costs a few prefilter passes, not one mask() call per line.
   */
  private completeLines(region: Buffer, out: Buffer[]): void {
    if (!this.carried && isUtf8(region) && !this.set.maybe(region.toString('utf8'))) {
      if (region.length > this.maxLineBytes) this.countLongLines(region);
      out.push(region);
      return;
    }
    if (region.length > SPLIT_MIN_BYTES) {
      const mid = region.indexOf(0x0a, region.length >> 1);
      if (mid >= 0 && mid < region.length - 1) {
        this.completeLines(region.subarray(0, mid + 1), out);
        this.completeLines(region.subarray(mid + 1), out);
        return;
      }
    }
    let from = 0;
    while (from < region.length) {
      const nl = region.indexOf(0x0a, from);
      const piece = region.subarray(from, nl + 1);
      from = nl + 1;
      this.lineBytes += piece.length;
      out.push(this.finishLine(piece));
    }
  }

  /**
   * Releases the held text of the incomplete line now, masked with what is known (idle release of
   * interactive streams; see the header for the trade-off). A trailing incomplete UTF-8 character
   * and a trailing `\r` stay held.
   */
  releasePartial(): Buffer {
    if (this.heldBytes === 0) return EMPTY;
    const bytes = this.takeHeld();
    let keep = incompleteTail(bytes);
    if (bytes.length > keep && bytes[bytes.length - keep - 1] === 0x0d) keep++;
    if (keep === bytes.length) {
      this.hold(bytes);
      return EMPTY;
    }
    const rel = bytes.subarray(0, bytes.length - keep);
    const enc: Enc = isUtf8(rel) ? 'utf8' : 'latin1';
    const r = this.render(rel.toString(enc), '', false);
    if (keep) this.hold(Buffer.from(bytes.subarray(bytes.length - keep)));
    return Buffer.from(r.out, enc);
  }

  /** End of the stream: releases the rest, masked. */
  flush(): Buffer {
    if (this.heldBytes === 0) {
      this.endLine(false);
      return EMPTY;
    }
    const bytes = this.takeHeld();
    return this.finishLine(bytes);
  }

  /** Bytes held now (the incomplete line). */
  pending(): number {
    return this.heldBytes;
  }

  counts(): TextMaskCounts {
    return { detectors: { ...this.hits }, oversizeLines: this.oversize };
  }

  /** A complete line (or the last, unterminated one) goes out masked. */
  private finishLine(line: Buffer): Buffer {
    if (this.lineBytes > this.maxLineBytes) this.countOversize();
    const enc: Enc = isUtf8(line) ? 'utf8' : 'latin1';
    const text = line.toString(enc);
    let out: string;
    let carry: boolean;
    if (!this.carried) {
      const r = this.set.mask(text);
      if (r.text === text) {
        this.endLine(false);
        return line;
      }
      this.count(r.hits);
      out = r.text;
      carry = text.endsWith('\n') && !out.endsWith('\n');
      if (carry) this.ctx = text.slice(-this.contextChars);
    } else {
      const r = this.render(text, '', false);
      out = r.out;
      carry = text.endsWith('\n') && r.maskedToEnd && r.used === text.length;
    }
    this.endLine(carry);
    return Buffer.from(out, enc);
  }

  /** The held line is over the bound: release all but the lookahead tail. */
  private cut(): Buffer {
    const bytes = this.takeHeld();
    const inc = incompleteTail(bytes);
    const body = bytes.subarray(0, bytes.length - inc);
    const enc: Enc = isUtf8(body) ? 'utf8' : 'latin1';
    let at = Math.max(1, body.length - this.lookahead);
    if (enc === 'utf8') for (let k = 0; k < 3 && at > 1 && (body[at]! & 0xc0) === 0x80; k++) at--;
    const text = body.subarray(0, at).toString(enc);
    const ahead = body.subarray(at).toString(enc);
    const r = this.render(text, ahead, this.guardRuns);
    const rest = (text + ahead).slice(r.used);
    if (rest.length) this.hold(Buffer.from(rest, enc));
    if (inc) this.hold(Buffer.from(bytes.subarray(bytes.length - inc)));
    return Buffer.from(r.out, enc);
  }

  /**
   * Masks `text`, released now, in the context of the released text before it and with `ahead`
   * (held) after it. Only `text` is replaced — plus, when a finding crosses into `ahead`, the
   * rest of that finding, which is released with it (`used` says how far the release went).
   */
  private render(text: string, ahead: string, guard: boolean): { out: string; used: number; maskedToEnd: boolean } {
    const ctx = this.carried ? this.ctx : '';
    const s = ctx + text + ahead;
    const b = ctx.length;
    let e = b + text.length;
    const ranges: Range[] = this.set.findings(s).filter((r) => r.end > b);
    if (this.runCont) {
      let end = b;
      while (end < s.length && !isBlank(s.charCodeAt(end))) end++;
      if (end > b) ranges.push({ start: b, end, detector: OVERSIZE_MARKER_NAME, cont: true });
    }
    for (const r of ranges) if (r.start < e && r.end > e) e = r.end;
    let runCut = false;
    if (guard && e > b && e < s.length && !isBlank(s.charCodeAt(e - 1)) && !isBlank(s.charCodeAt(e))) {
      let a = e - 1;
      while (a > b && !isBlank(s.charCodeAt(a - 1))) a--;
      ranges.push({ start: a, end: e, detector: OVERSIZE_MARKER_NAME });
      runCut = true;
    }
    const merged = mergeRanges(ranges);
    let out = '';
    let pos = b;
    let maskedToEnd = false;
    for (const r of merged) {
      if (r.start >= e) break;
      const a = Math.max(r.start, b);
      out += s.slice(pos, a);
      const continuation = r.start < b || r.cont === true;
      if (!(continuation && this.openMask)) {
        out += maskMarker(r.detector);
        if (r.detector !== OVERSIZE_MARKER_NAME) this.hits[r.detector] = (this.hits[r.detector] ?? 0) + 1;
      }
      pos = Math.min(r.end, e);
      maskedToEnd = pos === e;
    }
    if (pos < e) out += s.slice(pos, e);
    this.openMask = maskedToEnd;
    this.runCont = runCut || (this.runCont && maskedToEnd && e === s.length);
    this.ctx = s.slice(Math.max(0, e - this.contextChars), e);
    this.carried = true;
    return { out, used: e - b, maskedToEnd };
  }

  private endLine(carry: boolean): void {
    this.lineBytes = 0;
    this.lineCounted = false;
    this.runCont = false;
    if (carry) {
      this.carried = true;
      this.openMask = true;
      return;
    }
    this.ctx = '';
    this.carried = false;
    this.openMask = false;
  }

  private takeHeld(): Buffer {
    const b = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held);
    this.held = [];
    this.heldBytes = 0;
    return b;
  }

  private hold(b: Buffer): void {
    this.held.push(b);
    this.heldBytes += b.length;
  }

  private count(hits: Record<string, number>): void {
    for (const [k, v] of Object.entries(hits)) this.hits[k] = (this.hits[k] ?? 0) + v;
  }

  private countOversize(): void {
    if (this.lineCounted) return;
    this.lineCounted = true;
    this.oversize++;
  }

  /** Counts the lines over the bound in a run of complete lines that goes out unchanged (nothing was held). */
  private countLongLines(region: Buffer): void {
    for (let from = 0; from < region.length; ) {
      const nl = region.indexOf(0x0a, from);
      if (nl - from + 1 > this.maxLineBytes) this.oversize++;
      from = nl + 1;
    }
  }
}

/** Sorted, overlapping ranges merged (the first one's name; a continuation only if the first is one). */
function mergeRanges(ranges: Range[]): Range[] {
  if (ranges.length <= 1) return ranges;
  ranges.sort((x, y) => x.start - y.start || y.end - x.end);
  const out: Range[] = [];
  for (const r of ranges) {
    const cur = out[out.length - 1];
    if (cur !== undefined && r.start < cur.end) {
      if (r.end > cur.end) cur.end = r.end;
      continue;
    }
    out.push({ ...r });
  }
  return out;
}
