/**
 * The identity of a held request: SHA-256 over who asks (issuer + subject), the connection, the
 * method, the canonical path, the query with its parameters in a canonical order (the API server
 * does not care about their order), the body's media type and the exact body bytes. An approval covers exactly the
 * request with this hash — another name, namespace, body or person is another request
 * (SECURITY.md "Approval").
 */
import { createHash } from 'node:crypto';
import { redactQuery } from '../audit/redact-secrets.ts';

export interface HashedRequest {
  issuer: string;
  subject: string;
  connection: string;
  method: string;
  path: string;
  query: string;
  body?: Buffer;
  /** The body's media type: the same bytes as a merge or a strategic-merge patch mean different things. */
  contentType?: string;
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The query without credentials, parameters sorted (stable for identical requests). */
export function canonicalQuery(query: string): string {
  const q = redactQuery(query);
  return q === '' ? '' : q.split('&').sort().join('&');
}

/** Streaming subresources: kubectl ≥ 1.30 asks with GET (WebSocket) and falls back to POST (SPDY) — one operation. */
const CONNECT_PATH = /\/(exec|attach|portforward)$/;

/** The method as the hash sees it: exec, attach and port-forward are one operation whatever the transport. */
export function hashMethod(method: string, path: string): string {
  const m = method.toUpperCase();
  return (m === 'GET' || m === 'POST') && CONNECT_PATH.test(path) ? 'CONNECT' : m;
}

/** `application/merge-patch+json; charset=utf-8` → `application/merge-patch+json`; '' when none. */
const mediaType = (ct: string | undefined): string => (ct ?? '').split(';')[0]!.trim().toLowerCase();

export function requestHash(r: HashedRequest): string {
  return sha256Hex(
    JSON.stringify(['sluice-request-v1', r.issuer, r.subject, r.connection, hashMethod(r.method, r.path), r.path, canonicalQuery(r.query), mediaType(r.contentType), sha256Hex(r.body ?? Buffer.alloc(0))]),
  );
}
