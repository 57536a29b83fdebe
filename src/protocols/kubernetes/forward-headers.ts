/**
 * The headers that go upstream. Everything that could carry identity or routing is dropped —
 * `Authorization`, every `Impersonate-*`, `X-Forwarded-*`, `X-Remote-*`, `Forwarded`,
 * `Audit-ID`, `X-Request-Id`, cookies, hop-by-hop headers (RFC 9110 §7.6.1) and every header
 * named in `Connection` — then Sluice sets its own: the connection's credentials, and the
 * impersonation of the verified person (Kubernetes "User impersonation") with the request id
 * as an extra, so the cluster's RBAC and audit log see who it was (SECURITY.md: "Principles").
 */
import type { OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'http2-settings',
]);

const DROPPED = new Set(['authorization', 'cookie', 'forwarded', 'audit-id', 'x-request-id', 'x-real-ip']);
const DROPPED_PREFIXES = ['impersonate-', 'x-forwarded-', 'x-remote-'];

export interface Identity {
  username: string;
  groups: readonly string[];
}

export interface ForwardHeaderOptions {
  /** Value of the upstream `Authorization` header (the connection's credential). */
  authorization?: string;
  /** Impersonate this identity (connection setting `impersonate`). */
  impersonate?: Identity;
  /** Sluice's request id: `Audit-ID` and `Impersonate-Extra-sluice-request-id`. */
  requestId: string;
  /** Keep `Upgrade` and send `Connection: Upgrade` (exec, attach, port-forward). */
  upgrade?: string;
}

/** Whether the client's header `name` (lower case) is dropped before forwarding. */
function isDroppedHeader(name: string, connectionListed: ReadonlySet<string>): boolean {
  return HOP_BY_HOP.has(name) || DROPPED.has(name) || connectionListed.has(name) || DROPPED_PREFIXES.some((p) => name.startsWith(p));
}

/** Build the upstream headers from the client's raw header list (name, value, name, value …). */
export function forwardHeaders(rawHeaders: readonly string[], opts: ForwardHeaderOptions): OutgoingHttpHeaders {
  const connectionListed = new Set<string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === 'connection') {
      for (const t of rawHeaders[i + 1]!.split(',')) if (t.trim()) connectionListed.add(t.trim().toLowerCase());
    }
  }
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (isDroppedHeader(name, connectionListed)) continue;
    const value = rawHeaders[i + 1]!;
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  if (opts.upgrade) {
    out.connection = 'Upgrade';
    out.upgrade = opts.upgrade;
  }
  if (opts.authorization) out.authorization = opts.authorization;
  out['audit-id'] = opts.requestId;
  if (opts.impersonate) {
    out['impersonate-user'] = opts.impersonate.username;
    if (opts.impersonate.groups.length) out['impersonate-group'] = [...opts.impersonate.groups];
    out['impersonate-extra-sluice-request-id'] = opts.requestId;
  }
  return out;
}
