/**
 * The input a streaming masker still needs and the output it has produced, by input offset
 * (absolute character offsets since the start of the stream). The masker scans decoded text,
 * but what it does not change goes out as the original bytes: a chunk that is pure ASCII (the
 * API server's JSON nearly always is) maps characters to bytes one to one, so unchanged spans are
 * sent as slices of the received buffers, not copied or re-encoded. Non-ASCII spans go out as the
 * text that was decoded (and checked), re-encoded as UTF-8.
 *
 * Output is collected per input chunk and taken in a few pieces: the stream machinery costs more
 * per push than a copy of small pieces. Everything before `emitted` is dropped, so what is kept
 * is the unit still open (bounded by the masker) plus the last chunk.
 */
import { isAscii } from 'node:buffer';

interface TextPart {
  s: string;
  start: number;
}

interface RawChunk {
  buf: Buffer;
  start: number;
  end: number;
  ascii: boolean;
}

export class StreamText {
  private parts: TextPart[] = [];
  private raws: RawChunk[] = [];
  /** Output pieces: input bytes, or replacement text (encoded when taken, into the one buffer). */
  private out: (Buffer | string)[] = [];
  /** Offset after the last character received. */
  received = 0;
  /** Output has been produced for everything before this offset. */
  emitted = 0;
  /** The last chunk added is ASCII: its characters are its bytes, one to one. */
  lastAscii = false;

  /** Takes a chunk and its decoded text; returns the offset of its first character. */
  add(buf: Buffer, s: string): number {
    const start = this.received;
    this.received += s.length;
    this.parts.push({ s, start });
    const ascii = s.length === buf.length && isAscii(buf);
    this.lastAscii = ascii;
    this.raws.push({ buf, start, end: this.received, ascii });
    return start;
  }

  /** The decoded text of the last chunk and its offset. */
  last(): TextPart {
    return this.parts[this.parts.length - 1]!;
  }

  /** The input text between two offsets (at or after `emitted`). */
  slice(a: number, b: number): string {
    let out = '';
    for (const p of this.parts) {
      const pEnd = p.start + p.s.length;
      if (pEnd <= a) continue;
      if (p.start >= b) break;
      const from = Math.max(a, p.start) - p.start;
      const to = Math.min(b, pEnd) - p.start;
      out += from === 0 && to === p.s.length ? p.s : p.s.slice(from, to);
    }
    return out;
  }

  charCodeAt(at: number): number {
    for (let i = this.parts.length - 1; i >= 0; i--) {
      const p = this.parts[i]!;
      if (at >= p.start) return p.s.charCodeAt(at - p.start);
    }
    return -1;
  }

  /** The input between `emitted` and `upTo` goes out unchanged. */
  pass(upTo: number): void {
    if (upTo <= this.emitted) return;
    for (const r of this.raws) {
      if (r.end <= this.emitted) continue;
      if (r.start >= upTo) break;
      const a = Math.max(this.emitted, r.start);
      const b = Math.min(upTo, r.end);
      this.out.push(r.ascii ? r.buf.subarray(a - r.start, b - r.start) : Buffer.from(this.slice(a, b)));
    }
    this.emitted = upTo;
  }

  /** `text` goes out in place of the input between `a` and `b`. */
  replace(a: number, b: number, text: string): void {
    this.pass(a);
    this.out.push(text);
    this.emitted = b;
  }

  /** The output produced since the last call, in at most four pieces; drops the input before `emitted`. */
  take(): Buffer[] {
    const out = this.out;
    this.out = [];
    const from = this.emitted;
    let i = 0;
    while (i < this.parts.length && this.parts[i]!.start + this.parts[i]!.s.length <= from) i++;
    if (i > 0) this.parts = this.parts.slice(i);
    i = 0;
    while (i < this.raws.length && this.raws[i]!.end <= from) i++;
    if (i > 0) this.raws = this.raws.slice(i);
    return join(out);
  }
}

/**
 * The pieces as at most four buffers: up to four input slices as they are, else one buffer they
 * are copied into, replacement text encoded in place (no buffer of its own).
 */
function join(out: (Buffer | string)[]): Buffer[] {
  let texts = false;
  for (const x of out) if (typeof x === 'string') texts = true;
  if (!texts && out.length <= 4) return out as Buffer[];
  let total = 0;
  for (const x of out) total += typeof x === 'string' ? Buffer.byteLength(x) : x.length;
  const dst = Buffer.allocUnsafe(total);
  let at = 0;
  for (const x of out) {
    if (typeof x === 'string') at += dst.write(x, at);
    else {
      dst.set(x, at);
      at += x.length;
    }
  }
  return [dst];
}
