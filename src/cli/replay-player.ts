/**
 * Plays an asciicast (src/audit/asciicast.ts) in the terminal, as `sluice audit replay` does:
 * each output event is written when its time comes. `speed` divides every pause (2: twice as
 * fast), `idleTimeLimit` caps each pause (seconds of the recording, before `speed`) like
 * asciinema's `--idle-time-limit`; input (`"i"`) is written only with `input: true`; resize and
 * marker events are not written (a terminal cannot be resized from here; the caller prints the
 * exit). Pauses are scheduled against the start, so slow writes do not add up to drift.
 *
 * The clock is injected (DESIGN.md, style 8): tests pass one whose `sleep` records the request
 * and moves its `now`, and assert what was written and which pauses were asked for.
 */
import type { Cast, CastEvent } from '../audit/asciicast.ts';

export interface PlayerClock {
  /** Milliseconds, monotonic. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface PlayOptions {
  /** Playback speed factor (default 1; 2 plays twice as fast). */
  speed?: number;
  /** Longest pause between two events, in seconds of the recording (default: none). */
  idleTimeLimit?: number;
  /** Write stdin (`"i"`) events too (default false). */
  input?: boolean;
}

/** Writes text; may return a promise to wait for (e.g. a full pipe's 'drain'). */
export type PlayerWrite = (text: string) => void | Promise<void>;

/** Pauses shorter than this are not slept (the next write simply follows). */
const MIN_SLEEP_MS = 1;

export const realClock: PlayerClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Plays `cast`'s events through `write`; resolves when the last one was written. */
export async function playCast(cast: Cast, write: PlayerWrite, opts: PlayOptions = {}, clock: PlayerClock = realClock): Promise<void> {
  const speed = opts.speed ?? 1;
  if (!(speed > 0 && Number.isFinite(speed))) throw new RangeError(`speed must be a positive number, got ${speed}`);
  const limit = opts.idleTimeLimit;
  if (limit !== undefined && !(limit > 0)) throw new RangeError(`idle time limit must be positive, got ${limit}`);
  const played = (e: CastEvent): boolean => e[1] === 'o' || (e[1] === 'i' && opts.input === true);

  const start = clock.now();
  /** Playback time of the previous written event, ms since start. */
  let at = 0;
  let prev = 0;
  for (const e of cast.events) {
    if (!played(e)) continue;
    let gap = Math.max(0, e[0] - prev);
    prev = Math.max(prev, e[0]);
    if (limit !== undefined) gap = Math.min(gap, limit);
    at += (gap * 1000) / speed;
    const wait = Math.round(start + at - clock.now());
    if (wait >= MIN_SLEEP_MS) await clock.sleep(wait);
    await write(e[2]);
  }
}
