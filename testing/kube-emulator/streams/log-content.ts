/**
 * Deterministic container log content for the emulator: what `kubectl logs` shows for a pod.
 * Startup lines, request-ish lines and, for the masking tests, lines printing obviously fake
 * credentials. The pod annotation `emulator.sluice.dev/log-lines` (a JSON array of strings)
 * replaces the lines. Followed logs append one request line per interval.
 *
 * Volume (benchmarks: a big log through the gateway's masking): the pod annotation
 * `emulator.sluice.dev/log-volume-bytes` (a positive integer) makes each container's log that
 * many bytes of generated lines instead — request lines, one line in 50 printing a fake
 * credential. It is one block of such lines (volumeBlock, ~64 KiB) repeated: logs.ts writes
 * the block again and again with backpressure, so nothing beyond the block is held.
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '../types.ts';
import type { ContainerSpec } from './pod-info.ts';
import { podStatus } from './pod-info.ts';

export const LOG_LINES_ANNOTATION = 'emulator.sluice.dev/log-lines';
export const LOG_VOLUME_ANNOTATION = 'emulator.sluice.dev/log-volume-bytes';

export interface LogLine {
  time: Date;
  text: string;
}

/** A fake JWT-shaped bearer token: `{"alg":"HS256"}` . `fake` . `fake`, base64url. */
export const FAKE_LOG_JWT = 'eyJhbGciOiJIUzI1NiJ9.ZmFrZQ.ZmFrZQ';

function seedOf(...parts: string[]): number {
  return createHash('sha256').update(parts.join('\0')).digest().readUInt32BE(0);
}

function baseTime(pod: KubeObject): Date {
  const st = podStatus(pod).startTime ?? pod.metadata.creationTimestamp;
  const t = st ? Date.parse(st) : NaN;
  return Number.isFinite(t) ? new Date(t) : new Date(Date.UTC(2024, 0, 1));
}

const PATHS = ['/api/items', '/api/items/42', '/api/orders', '/healthz', '/metrics', '/api/users/me', '/static/app.js'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'GET', 'PUT'];

/** The n-th request line of a container (deterministic). */
export function requestLine(pod: KubeObject, container: string, n: number): string {
  const s = seedOf(pod.metadata.uid ?? pod.metadata.name ?? '', container, String(n));
  const method = METHODS[s % METHODS.length] ?? 'GET';
  const path = PATHS[(s >>> 8) % PATHS.length] ?? '/';
  const status = (s >>> 16) % 23 === 0 ? 500 : method === 'POST' ? 201 : 200;
  const ms = 1 + ((s >>> 4) % 120);
  return `${method} ${path} ${status} ${ms}ms req=${(s >>> 0).toString(16).padStart(8, '0')}`;
}

function staticTexts(pod: KubeObject, c: ContainerSpec): string[] {
  const ann = pod.metadata.annotations?.[LOG_LINES_ANNOTATION];
  if (ann) {
    try {
      const parsed: unknown = JSON.parse(ann);
      if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) return parsed as string[];
    } catch {
      // fall through to the generated lines
    }
  }
  const image = c.image ?? 'busybox';
  const port = c.ports?.[0]?.containerPort ?? 8080;
  return [
    `starting ${c.name} (image ${image})`,
    `loaded configuration from /app/config.yaml`,
    `connecting to postgres://app:fake-password@db:5432/app`,
    `database connection established`,
    `listening on :${port}`,
    requestLine(pod, c.name, 0),
    requestLine(pod, c.name, 1),
    `calling upstream https://api.internal.example/v1/sync with Authorization: Bearer ${FAKE_LOG_JWT}`,
    requestLine(pod, c.name, 2),
    requestLine(pod, c.name, 3),
  ];
}

/** The lines a container has logged so far (timestamps one second apart from the pod's start). */
export function containerLog(pod: KubeObject, c: ContainerSpec, previous = false): LogLine[] {
  const base = baseTime(pod).getTime();
  const texts = staticTexts(pod, c);
  const lines = texts.map((text, i) => ({ time: new Date(base + i * 1000), text }));
  if (previous) {
    return [
      { time: new Date(base - 60_000), text: `starting ${c.name} (previous instance)` },
      { time: new Date(base - 59_000), text: 'fatal: lost connection to database, exiting' },
    ];
  }
  return lines;
}

/**
 * Timestamps as the kubelet prints them for `timestamps=true` (kuberuntime logs timeFormatOut,
 * RFC3339NanoFixed: always nine fractional digits).
 */
export function rfc3339Nano(d: Date): string {
  const iso = d.toISOString(); // 2024-01-01T00:00:00.123Z
  return `${iso.slice(0, 19)}.${iso.slice(20, 23)}000000Z`;
}

/** The byte count `emulator.sluice.dev/log-volume-bytes` asks for, or undefined (absent, or not a positive integer). */
export function logVolumeBytes(pod: KubeObject): number | undefined {
  const v = pod.metadata.annotations?.[LOG_VOLUME_ANNOTATION]?.trim();
  if (!v || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** One line in this many of a volume log prints a fake credential (alternately a password in a URL and a bearer JWT). */
export const VOLUME_CREDENTIAL_EVERY = 50;

/**
 * The repeating block of a volume log: whole lines (deterministic for the pod and container),
 * at least `minBytes` long. Request lines; every VOLUME_CREDENTIAL_EVERY-th line prints a fake
 * credential the gateway's detectors mask (`postgres://app:fake-password@…`, `Bearer <FAKE_LOG_JWT>`).
 */
export function volumeBlock(pod: KubeObject, container: string, minBytes = 64 * 1024): Buffer {
  const lines: string[] = [];
  let bytes = 0;
  for (let n = 0; bytes < minBytes; n++) {
    let line: string;
    if (n % VOLUME_CREDENTIAL_EVERY === VOLUME_CREDENTIAL_EVERY - 1) {
      line =
        Math.floor(n / VOLUME_CREDENTIAL_EVERY) % 2 === 0
          ? `reconnecting to postgres://app:fake-password@db:5432/app (attempt ${n})`
          : `calling upstream https://api.internal.example/v1/sync with Authorization: Bearer ${FAKE_LOG_JWT}`;
    } else {
      line = requestLine(pod, container, n);
    }
    lines.push(line);
    bytes += Buffer.byteLength(line) + 1;
  }
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}
