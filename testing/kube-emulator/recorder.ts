/**
 * The emulator's request record: what tests assert on (who the request was executed as, with
 * which impersonation headers, which status). Plays the role of the API server's audit log
 * (k8s.io/apiserver/pkg/audit) for tests. Secrets never enter it: the Authorization header is
 * replaced by the SHA-256 of the bearer token.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RecordedRequest } from './types.ts';

export const RECORDED_BODY_LIMIT = 64 * 1024;

/** `Bearer sha256:<hex>` for a bearer token; other schemes keep only their name. */
export function redactAuthorization(value: string): string {
  const m = /^(\S+)\s+(.*)$/s.exec(value.trim());
  if (!m) return 'sha256:' + createHash('sha256').update(value).digest('hex');
  const scheme = m[1] ?? '';
  return `${scheme} sha256:${createHash('sha256').update((m[2] ?? '').trim()).digest('hex')}`;
}

export function recordHeaders(req: IncomingMessage): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headersDistinct)) {
    if (!v) continue;
    const name = k.toLowerCase();
    if (name === 'authorization' || name === 'proxy-authorization') out[name] = v.length === 1 ? redactAuthorization(v[0] ?? '') : v.map(redactAuthorization);
    else out[name] = v.length === 1 ? (v[0] ?? '') : v;
  }
  return out;
}

export class Recorder {
  readonly requests: RecordedRequest[] = [];
  private seq = 0;

  constructor(
    private readonly enabled: boolean,
    private readonly max: number,
    private readonly now: () => Date,
  ) {}

  /** Start a record (kept in `requests` at once, so in-flight watches and streams are visible). */
  start(req: IncomingMessage): RecordedRequest {
    const r: RecordedRequest = {
      seq: ++this.seq,
      time: this.now().toISOString(),
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: recordHeaders(req),
      bodyBytes: 0,
      impersonated: false,
    };
    if (this.enabled) {
      this.requests.push(r);
      if (this.requests.length > this.max) this.requests.splice(0, this.requests.length - this.max);
    }
    return r;
  }

  body(r: RecordedRequest, body: Buffer | undefined, totalBytes: number): void {
    r.bodyBytes = totalBytes;
    if (body && body.length > 0) r.bodyBase64 = body.subarray(0, RECORDED_BODY_LIMIT).toString('base64');
  }

  clear(): void {
    this.requests.length = 0;
  }
}
