/**
 * What exec/attach output masking needs, shared by the WebSocket relay (ws-exec-masking.ts) and
 * the SPDY/3.1 relay (spdy-exec-masking.ts), and the rule of which upgrades are masked: exec and
 * attach (their stdout and stderr), never port-forward (a byte stream of some other protocol).
 */
import type { Duplex } from 'node:stream';
import type { DetectorSet } from '../../masking/detectors/index.ts';
import type { TextMaskCounts } from '../../masking/text/index.ts';
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

/** The masked half of a session. */
export interface MaskedRelay {
  /** Findings per detector and lines over the bound, over all masked streams. */
  counts(): TextMaskCounts;
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

