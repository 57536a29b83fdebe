/**
 * The line masker (line-masker.ts) as a Transform, for `pods/log` responses (`kubectl logs`,
 * `logs -f`): Buffer in, masked Buffer out. Every complete line of a chunk goes out with that
 * chunk — a followed log never waits for the next chunk to show a finished line; only the
 * incomplete last line is held (bounded by `maxLineBytes`). Logs never release a partial line
 * early: that trade-off is for interactive exec sessions only (exec-masking.ts).
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { DetectorSet } from '../detectors/index.ts';
import { LineMasker, type TextMaskCounts } from './line-masker.ts';

export interface TextMaskerOptions {
  detectors: DetectorSet;
  /** Longest incomplete line held (default 1 MiB); a longer one is masked conservatively. */
  maxLineBytes?: number;
}

export interface TextMasker extends Transform {
  /** Findings per detector and lines over the bound, so far. */
  counts(): TextMaskCounts;
}

class TextMaskerStream extends Transform implements TextMasker {
  private readonly masker: LineMasker;

  constructor(opts: TextMaskerOptions) {
    super();
    this.masker = new LineMasker(opts);
  }

  counts(): TextMaskCounts {
    return this.masker.counts();
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, cb: TransformCallback): void {
    const out = this.masker.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (out.length) this.push(out);
    cb();
  }

  override _flush(cb: TransformCallback): void {
    const out = this.masker.flush();
    if (out.length) this.push(out);
    cb();
  }
}

export function createTextMasker(opts: TextMaskerOptions): TextMasker {
  return new TextMaskerStream(opts);
}
