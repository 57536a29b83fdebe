/**
 * Kubernetes `Status` objects (k8s.io/apimachinery/pkg/apis/meta/v1 Status) exactly as the API
 * server writes them for errors, and helpers to send them on a response or a raw upgrade socket.
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'InternalError'
  | 'Timeout'
  | 'TooManyRequests'
  | 'ServiceUnavailable'
  | 'Expired'
  | '';

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: { reason?: string; message?: string; field?: string }[];
  retryAfterSeconds?: number;
}

export interface StatusObject {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

export function statusFailure(code: number, reason: StatusReason, message: string, details?: StatusDetails): StatusObject {
  const s: StatusObject = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) s.details = details;
  return s;
}


/** A thrown Status: handlers throw it, the router turns it into a response. */
export class StatusError extends Error {
  constructor(readonly status: StatusObject) {
    super(status.message);
  }
  static of(code: number, reason: StatusReason, message: string, details?: StatusDetails): StatusError {
    return new StatusError(statusFailure(code, reason, message, details));
  }
}

export function sendStatus(res: ServerResponse, status: StatusObject): void {
  const body = JSON.stringify(status);
  if (!res.headersSent) {
    res.writeHead(status.code, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-cache, private',
    });
  }
  res.end(body);
}

/** Answer an upgrade request that will not be upgraded with a plain HTTP response, then close. */
export function rejectUpgrade(socket: Duplex, status: StatusObject): void {
  const body = JSON.stringify(status);
  socket.end(
    `HTTP/1.1 ${status.code} ${STATUS_CODES[status.code] ?? ''}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
