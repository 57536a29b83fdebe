/**
 * How the control API answers a failure: one JSON shape, `{ "error": { "code", "message" } }`,
 * with an HTTP status chosen by the stable code (src/core/errors.ts). Only the code and a short
 * message go on the wire; anything unforeseen becomes a bare "internal error" and the detail
 * goes to the log (DESIGN.md: "Internal errors are not wire errors").
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { isSluiceError, type ErrorCode } from '../core/errors.ts';
import { sendJson } from './send-json.ts';

/** A failure with the status and headers it is answered with. */
export class ControlProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** HTTP status of each code a control API operation can fail with. */
export const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  APPROVAL_NOT_FOUND: 404,
  APPROVAL_FORBIDDEN: 403,
  APPROVAL_CLOSED: 409,
  APPROVAL_INVALID: 400,
  AUTHN_MISSING: 401,
  AUTHN_INVALID: 401,
  AUTHN_BAD_REQUEST: 400,
  AUTHN_ISSUER_UNAVAILABLE: 503,
  STORE_UNAVAILABLE: 503,
  AUDIT_UNAVAILABLE: 503,
  AUDIT_QUERY_INVALID: 400,
  AUDIT_RECORD_NOT_FOUND: 404,
  AUDIT_NOT_REPLAYABLE: 409,
  POLICY_DENIED: 403,
  APPROVAL_REQUIRED: 403,
  REQUEST_INVALID: 400,
  REQUEST_TOO_LARGE: 413,
};

/**
 * Code of an unforeseen failure. Not (yet) in the registry of src/core/errors.ts, which has no
 * code for "the gateway itself failed".
 */
export const INTERNAL_ERROR = 'INTERNAL_ERROR';

/** Answer `err` as the JSON error shape (or cut the connection when a response already started). */
export function sendProblem(res: ServerResponse, err: unknown, log: Logger): void {
  let status: number;
  let code: string;
  let message: string;
  let headers: Record<string, string> = {};
  if (err instanceof ControlProblem) {
    ({ status, code, message, headers } = err);
    if (status >= 500) log.warn({ code, detail: err.detail }, `control API: ${message}`);
  } else if (isSluiceError(err)) {
    status = STATUS_BY_CODE[err.code] ?? 500;
    code = err.code;
    message = err.message;
    if (status >= 500) log.warn({ code, detail: err.detail }, `control API: ${message}`);
  } else {
    status = 500;
    code = INTERNAL_ERROR;
    message = 'internal error';
    log.error({ err }, 'control API: unexpected failure');
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, { error: { code, message } }, headers);
}
