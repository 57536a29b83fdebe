/**
 * The asciicast v2 document of a recorded exec/attach session (ADR 0002 Decision 5), built on
 * demand from its audit record and recorded chunks — the cast itself is never stored. Format:
 * https://docs.asciinema.org/manual/asciicast/v2/ — newline-delimited JSON: a header object,
 * then one event array `[time, code, data]` per line, times in seconds (float) since the start,
 * non-decreasing.
 *
 * - Header: `version` 2; `width`×`height` from the first resize message (`{"Width":…,
 *   "Height":…}`), else 80×24; `timestamp` (begin, Unix seconds); `command` (the exec `command`
 *   parameters joined with spaces, an argument quoted POSIX-style when it needs it); `title`
 *   (`alice@prod pod/web-1 -c app`); `idle_time_limit` and `env` when asked for.
 * - Events: stdout **and** stderr as `"o"` (v2 has one output stream; the split stays in the
 *   trail), stdin as `"i"` only with `input: true` (replay hides input unless asked), every resize
 *   after the first as `"r"` `COLSxROWS`, and a last `"m"` marker `exit N` (or `error: …`) from the
 *   error channel's Kubernetes Status — v2 has no exit event.
 * - Text: each stream is decoded with its own streaming TextDecoder, so a UTF-8 character split
 *   across chunks comes out whole; bytes that are not UTF-8 (a `kubectl cp` tar) become U+FFFD.
 * - Times: the chunk offsets (µs since the request began) as seconds with µs precision.
 */
import { TextDecoder } from 'node:util';
import type { AuditRecord, RecordedChunk, RecordedStream } from './types.ts';

export const DEFAULT_CAST_WIDTH = 80;
export const DEFAULT_CAST_HEIGHT = 24;

/** The largest terminal dimension accepted from a resize message (the API server's is a uint16). */
const MAX_DIMENSION = 65535;
/** Longest error text put into the exit marker. */
const MAX_MARKER_TEXT = 200;

export interface CastHeader {
  version: 2;
  width: number;
  height: number;
  /** Unix time of the session's start, seconds. */
  timestamp: number;
  idle_time_limit?: number;
  command?: string;
  title: string;
  env?: Record<string, string>;
}

export type CastEventCode = 'o' | 'i' | 'r' | 'm';
export type CastEvent = [time: number, code: CastEventCode, data: string];

/** How the session ended, from the error channel's Status. */
export interface SessionExit {
  /** The process exit code, when the Status says (Success: 0; NonZeroExitCode: its ExitCode cause). */
  code?: number;
  /** The marker text: `exit N`, or `error: <message>`. */
  marker: string;
}

export interface Cast {
  header: CastHeader;
  events: CastEvent[];
  /** Absent when no Status was recorded (the client or the connection went away first). */
  exit?: SessionExit;
}

export interface CastOptions {
  /** Include stdin as `"i"` events (default false). */
  input?: boolean;
  /** Written to the header as `idle_time_limit` (seconds): players cap pauses at it. */
  idleTimeLimit?: number;
  /** Written to the header as `env` (asciinema records SHELL and TERM). */
  env?: Record<string, string>;
}

/** Whether an audit record is a terminal session (exec or attach of a pod) that may have a cast. */
export function isTerminalSession(record: AuditRecord): boolean {
  const a = record.attributes;
  return a !== undefined && a.resource === 'pods' && (a.subresource === 'exec' || a.subresource === 'attach');
}

/** One shell word: as it is when it is safe, else in single quotes. */
function shellWord(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Terminal sizes in a resize chunk (one or more JSON objects; client-go writes one per line). */
function sizes(data: Buffer): { cols: number; rows: number }[] {
  const out: { cols: number; rows: number }[] = [];
  for (const m of data.toString('utf8').matchAll(/\{[^{}]*\}/g)) {
    let v: unknown;
    try {
      v = JSON.parse(m[0]);
    } catch {
      continue;
    }
    const o = v as { Width?: unknown; Height?: unknown };
    const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0 && n <= MAX_DIMENSION;
    if (ok(o.Width) && ok(o.Height)) out.push({ cols: o.Width, rows: o.Height });
  }
  return out;
}

function clip(s: string): string {
  const t = s.trim().replace(/\s+/g, ' ');
  return t.length > MAX_MARKER_TEXT ? `${t.slice(0, MAX_MARKER_TEXT - 1)}…` : t;
}

/**
 * The exit of a session from its Status bytes (k8s.io/apimachinery metav1.Status as remotecommand
 * v2+ writes it on the error channel: `Success`, or `Failure` with reason `NonZeroExitCode` and a
 * cause `{reason: "ExitCode", message: "N"}`); the v1 protocol's plain error text is kept as text.
 */
export function sessionExit(status: Buffer): SessionExit | undefined {
  const text = status.toString('utf8');
  if (text.trim() === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { marker: `error: ${clip(text)}` };
  }
  if (typeof v !== 'object' || v === null) return { marker: `error: ${clip(text)}` };
  const s = v as { status?: unknown; reason?: unknown; message?: unknown; details?: { causes?: unknown } };
  if (s.status === 'Success') return { code: 0, marker: 'exit 0' };
  if (s.reason === 'NonZeroExitCode' && Array.isArray(s.details?.causes)) {
    for (const c of s.details.causes as { reason?: unknown; message?: unknown }[]) {
      if (c?.reason === 'ExitCode' && typeof c.message === 'string' && /^\d+$/.test(c.message)) {
        const code = Number(c.message);
        return { code, marker: `exit ${code}` };
      }
    }
  }
  const why = typeof s.message === 'string' && s.message ? s.message : typeof s.reason === 'string' && s.reason ? s.reason : 'Failure';
  return { marker: `error: ${clip(why)}` };
}

/** Seconds with µs precision. */
function seconds(tUs: number): number {
  return Math.max(0, Math.round(tUs)) / 1e6;
}

/** The asciicast v2 of a recorded exec/attach session; `chunks` in recorded order. */
export function sessionCast(record: AuditRecord, chunks: readonly RecordedChunk[], opts: CastOptions = {}): Cast {
  const q = new URLSearchParams(record.query);
  const command = q.getAll('command');
  const container = q.get('container') ?? '';
  const user = record.principal?.username || 'unknown';
  const name = record.attributes?.name ?? '';
  let title = `${user}@${record.connection} pod/${name}`;
  if (container) title += ` -c ${container}`;

  const events: CastEvent[] = [];
  let last = 0;
  const push = (tUs: number, code: CastEventCode, data: string): void => {
    last = Math.max(last, seconds(tUs));
    events.push([last, code, data]);
  };
  const decoders = new Map<RecordedStream, TextDecoder>();
  const lastAt = new Map<RecordedStream, number>();
  const decode = (c: RecordedChunk, code: 'o' | 'i'): void => {
    let d = decoders.get(c.stream);
    if (d === undefined) {
      d = new TextDecoder('utf-8', { fatal: false });
      decoders.set(c.stream, d);
    }
    lastAt.set(c.stream, c.tUs);
    const text = d.decode(c.data, { stream: true });
    if (text) push(c.tUs, code, text);
  };

  let size: { cols: number; rows: number } | undefined;
  const status: Buffer[] = [];
  let statusAt = 0;
  for (const c of chunks) {
    switch (c.stream) {
      case 'stdout':
      case 'stderr':
        decode(c, 'o');
        break;
      case 'stdin':
        if (opts.input) decode(c, 'i');
        break;
      case 'resize':
        for (const s of sizes(c.data)) {
          if (size === undefined) size = s;
          else push(c.tUs, 'r', `${s.cols}x${s.rows}`);
        }
        break;
      case 'status':
        status.push(c.data);
        statusAt = c.tUs;
        break;
      default:
        // request/response bodies belong to HTTP requests, not to a terminal.
        break;
    }
  }
  // A character cut off at the very end comes out as U+FFFD.
  for (const [stream, d] of decoders) {
    const rest = d.decode();
    if (rest) push(lastAt.get(stream) ?? 0, stream === 'stdin' ? 'i' : 'o', rest);
  }
  const exit = status.length ? sessionExit(Buffer.concat(status)) : undefined;
  if (exit) push(statusAt, 'm', exit.marker);

  const header: CastHeader = {
    version: 2,
    width: size?.cols ?? DEFAULT_CAST_WIDTH,
    height: size?.rows ?? DEFAULT_CAST_HEIGHT,
    timestamp: Math.floor(record.time.getTime() / 1000),
    ...(opts.idleTimeLimit !== undefined ? { idle_time_limit: opts.idleTimeLimit } : {}),
    ...(command.length ? { command: command.map(shellWord).join(' ') } : {}),
    title,
    ...(opts.env ? { env: { ...opts.env } } : {}),
  };
  return { header, events, ...(exit ? { exit } : {}) };
}

/** The cast as an asciicast v2 file: the header line, then one line per event. */
export function castText(cast: Cast): string {
  let out = `${JSON.stringify(cast.header)}\n`;
  for (const e of cast.events) out += `${JSON.stringify(e)}\n`;
  return out;
}
