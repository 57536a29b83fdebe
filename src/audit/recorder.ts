/**
 * The audit recorder the gateway calls on every request. `begin` checks the record (UUID v4 id,
 * known event code, valid time) and scrubs it of credentials (redact-secrets.ts) — nothing is
 * written yet. The handle then writes it in one of two ways:
 * - `commit()` writes the record now and resolves once the store has committed it. The gateway
 *   calls it before it forwards anything that can change the cluster (writes, deletes, exec…),
 *   and before it releases the first byte of a streamed answer; if it rejects, the gateway
 *   answers 503 and forwards nothing (fail closed).
 * - `complete(outcome)` adds status, byte counts, duration and completion time. When `commit()`
 *   was never called, the record and its outcome are written together in one commit: a read
 *   whose whole answer came back before anything had to be released costs one write, not two.
 *
 * Store failures reject with SluiceError STORE_UNAVAILABLE and are logged (without the record's
 * contents).
 */
import type { Logger } from 'pino';
import { SluiceError } from '../core/errors.ts';
import type { AuditStore } from '../store/audit-store.ts';
import { storeUnavailable } from '../store/store-unavailable.ts';
import { isAuditEventCode } from './event-codes.ts';
import { redactSecrets, redactString } from './redact-secrets.ts';
import type { AuditBegin, AuditCompletion, AuditHandle, AuditMasking, AuditOutcome, AuditRecorder } from './types.ts';
import { Tape } from './tape.ts';

/** What the recorder keeps of bodies and terminals (config `recording`, docs/recording.md). */
export interface RecordingOptions {
  /** Off: records and the chain only, no bodies or terminals. */
  enabled: boolean;
  /** Bytes of a request body kept (default 3 MiB, the read limit). */
  maxRequestBytes: number;
  /** Bytes of a response kept — a single answer or a whole watch / `logs -f` stream (default 4 MiB). */
  maxResponseBytes: number;
  /** Bytes of a terminal session kept, over stdin, stdout and stderr (default 64 MiB). */
  maxTerminalBytes: number;
}

export const DEFAULT_RECORDING: RecordingOptions = {
  enabled: true,
  maxRequestBytes: 3 * 1024 * 1024,
  maxResponseBytes: 4 * 1024 * 1024,
  maxTerminalBytes: 64 * 1024 * 1024,
};

/** A stream in flight commits its chunks to the chain at least this often (ADR 0002: body.segment). */
const SEGMENT_MS = 1000;
const SEGMENT_CHUNKS = 64;
const SEGMENT_BYTES = 1024 * 1024;

export interface AuditRecorderOptions {
  log?: Logger;
  /** Bodies and terminal sessions (default: DEFAULT_RECORDING). */
  recording?: RecordingOptions;
  /** Clock for `completedAt` (tests freeze it). */
  now?: () => Date;
  /** Close the store in `close()` (default true: the recorder owns the store it is given). */
  closeStore?: boolean;
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function createAuditRecorder(store: AuditStore, opts: AuditRecorderOptions = {}): AuditRecorder {
  const now = opts.now ?? (() => new Date());
  const recording = opts.recording ?? DEFAULT_RECORDING;
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;

  const write = <T>(op: 'begin' | 'complete' | 'segment', id: string, fn: () => Promise<T>): Promise<T> => {
    const p = (async () => {
      if (closed) throw new SluiceError('STORE_UNAVAILABLE', `audit recorder is closed (${op})`, { operation: op });
      try {
        return await fn();
      } catch (e) {
        const err = storeUnavailable(op, e);
        opts.log?.error({ err: { code: err.code, message: err.message }, requestId: id }, `audit ${op} failed`);
        throw err;
      }
    })();
    inFlight.add(p);
    const done = (): void => void inFlight.delete(p);
    p.then(done, done);
    return p;
  };

  return {
    begin(input: AuditBegin): AuditHandle {
      checkEntry(input);
      const { entry, redacted } = redactSecrets(withoutBody(input));
      if (redacted.length) opts.log?.warn({ requestId: entry.id, fields: redacted }, 'credentials removed from an audit record');
      let committed: Promise<void> | undefined;
      let completion: Promise<void> | undefined;
      const tape = recording.enabled ? new Tape(recording) : undefined;
      /** A failed segment write: the completion fails too, so the stream is cut (the client never gets a complete answer the trail does not hold). */
      let segmentFailure: Error | undefined;
      let segmentTimer: NodeJS.Timeout | undefined;
      const writeSegment = (): void => {
        clearTimeout(segmentTimer);
        segmentTimer = undefined;
        if (!tape?.changed || completion || segmentFailure) return;
        const rec = tape.take();
        const begun = committed;
        // Segments follow the begin in the writer's queue; before the begin is durable there is nothing to attach to.
        void write('segment', entry.id, async () => {
          if (!begun || !(await begun.then(() => true, () => false))) throw new Error('the record was not written');
          await store.segment(entry.id, rec);
        }).catch((e: unknown) => (segmentFailure ??= e as Error));
      };
      return {
        record(stream, data, withhold = false) {
          if (!tape || completion || data.length === 0) return;
          if (withhold) tape.withhold(stream, data.length);
          else tape.add(stream, data);
          if (!committed) return;
          if (tape.pendingChunks >= SEGMENT_CHUNKS || tape.pendingBytes >= SEGMENT_BYTES) writeSegment();
          else segmentTimer ??= setTimeout(writeSegment, SEGMENT_MS).unref();
        },
        recordingFailure: () => segmentFailure,
        commit() {
          committed ??= write('begin', entry.id, () => store.insert(entry, undefined, tape?.take()));
          return committed;
        },
        complete(outcome: AuditOutcome): Promise<void> {
          if (completion) return completion;
          try {
            checkOutcome(outcome);
          } catch (e) {
            return Promise.reject(e as Error);
          }
          const c: AuditCompletion = {
            status: outcome.status,
            bytesIn: Math.round(outcome.bytesIn),
            bytesOut: Math.round(outcome.bytesOut),
            durationMs: Math.round(outcome.durationMs),
            ...(outcome.error ? { error: { code: redactString(outcome.error.code), message: redactString(outcome.error.message) } } : {}),
            ...(outcome.masking ? { masking: maskingNote(outcome.masking) } : {}),
            ...(outcome.detail ? { detail: redactSecrets(outcome.detail).entry } : {}),
            completedAt: now(),
          };
          const begun = committed;
          clearTimeout(segmentTimer);
          const rec = tape?.take();
          completion = write('complete', entry.id, async () => {
            // Written already: add the outcome. Never written (or the write failed): write it all at once.
            if (begun && (await begun.then(() => true, () => false))) {
              const updated = await store.complete(entry.id, c, rec);
              if (!updated) opts.log?.warn({ requestId: entry.id }, 'audit record was already completed or is gone');
            } else await store.insert(entry, c, rec);
            if (segmentFailure) throw segmentFailure;
          });
          return completion;
        },
      };
    },
    async close() {
      closed = true;
      await Promise.allSettled([...inFlight]);
      if (opts.closeStore ?? true) await store.close();
    },
  };
}

/** Counts only: names (field labels, detector and rule names) cut to 200 characters and redacted, non-negative integers. */
function maskingNote(m: AuditMasking): AuditMasking {
  const counts = (r: Record<string, number>): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(r)) if (Number.isFinite(v) && v > 0) out[redactString(k.slice(0, 200))] = Math.round(v);
    return out;
  };
  return {
    fields: counts(m.fields),
    detectors: counts(m.detectors),
    ...(m.oversizeLines ? { oversizeLines: Math.round(m.oversizeLines) } : {}),
    ...(m.lifted ? { lifted: m.lifted.map((r) => redactString(r.slice(0, 200))) } : {}),
  };
}

function checkEntry(e: AuditBegin): void {
  if (!UUID_V4.test(e.id)) throw new TypeError('audit record id must be a lower-case UUID v4 generated by the gateway');
  if (!isAuditEventCode(e.code)) throw new TypeError(`unknown audit event code ${JSON.stringify(e.code)}`);
  if (!(e.time instanceof Date) || !Number.isFinite(e.time.getTime())) throw new TypeError('audit record time must be a valid Date');
}

function checkOutcome(o: AuditOutcome): void {
  for (const k of ['status', 'bytesIn', 'bytesOut', 'durationMs'] as const) {
    if (typeof o[k] !== 'number' || !Number.isFinite(o[k]) || o[k] < 0) throw new TypeError(`audit outcome ${k} must be a non-negative number`);
  }
  if (!Number.isInteger(o.status) || o.status > 999) throw new TypeError('audit outcome status must be an HTTP status code (or 0)');
}

/** A record never holds a request body (bodies are recorded masked, as chunks, through `record()`): drop one a caller passed anyway before copying. */
function withoutBody(e: AuditBegin): AuditBegin {
  if (!e.attributes || !('object' in e.attributes)) return e;
  const { object: _object, ...attributes } = e.attributes as AuditBegin['attributes'] & { object?: unknown };
  return { ...e, attributes };
}
