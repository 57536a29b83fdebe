/**
 * The line masker (line-masker.ts) as a Transform, for `pods/log` responses (`kubectl logs`,
 * `logs -f`): Buffer in, masked Buffer out. Every complete line of a chunk goes out with that
 * chunk — a followed log never waits for the next chunk to show a finished line; only the
 * incomplete last line is held (bounded by `maxLineBytes`). `idleMs` (off by default; for
 * interactive streams only, see the trade-off in line-masker.ts) releases a held partial line
 * after that much quiet.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { DetectorSet } from '../detectors/index.ts';
import { LineMasker, type TextMaskCounts } from './line-masker.ts';

export interface TextMaskerOptions {
  detectors: DetectorSet;
  /** Longest incomplete line held (default 1 MiB); a longer one is masked conservatively. */
  maxLineBytes?: number;
  /** Release a held partial line after this many ms without input (default: never). */
  idleMs?: number;
}

export interface TextMasker extends Transform {
  /** Findings per detector and lines over the bound, so far. */
  counts(): TextMaskCounts;
}

class TextMaskerStream extends Transform implements TextMasker {
  private readonly masker: LineMasker;
  private readonly idleMs: number;
  private timer: NodeJS.Timeout | null = null;

  constructor(opts: TextMaskerOptions) {
    super();
    this.masker = new LineMasker(opts);
    this.idleMs = opts.idleMs ?? 0;
  }

  counts(): TextMaskCounts {
    return this.masker.counts();
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, cb: TransformCallback): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.clearTimer();
    const out = this.masker.push(buf);
    if (out.length) this.push(out);
    if (this.idleMs > 0 && this.masker.pending() > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        const part = this.masker.releasePartial();
        if (part.length) this.push(part);
      }, this.idleMs);
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    this.clearTimer();
    const out = this.masker.flush();
    if (out.length) this.push(out);
    cb();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.clearTimer();
    cb(err);
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}

export function createTextMasker(opts: TextMaskerOptions): TextMasker {
  return new TextMaskerStream(opts);
}
