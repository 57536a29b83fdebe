/**
 * Authentication failures as values. Each carries a stable code (src/core/errors.ts), the HTTP
 * status the protocol layer answers with (a Kubernetes `Status`, a JSON-RPC error, …), the
 * RFC 6750 §3.1 `error` for a `WWW-Authenticate: Bearer` challenge, a short public message,
 * and a private detail for the log and the audit record. Neither ever contains the token
 * (RFC 8725 §2; SECURITY.md "Authentication").
 */
import type { ErrorCode } from '../core/errors.ts';

export type AuthnErrorCode = Extract<ErrorCode, 'AUTHN_MISSING' | 'AUTHN_INVALID' | 'AUTHN_BAD_REQUEST' | 'AUTHN_ISSUER_UNAVAILABLE'>;

export interface AuthnError {
  readonly code: AuthnErrorCode;
  /**
   * 401 for a missing or invalid token, 400 for ambiguous credentials, 503 when the issuer's
   * keys cannot be fetched (the token may be fine; a 401 would send clients into a login loop).
   */
  readonly status: 400 | 401 | 503;
  /** RFC 6750 §3.1 error code for `WWW-Authenticate: Bearer error="…"`; none when no token was sent or the issuer is down. */
  readonly bearerError?: 'invalid_request' | 'invalid_token';
  /** Short reason safe to send to the client, e.g. `token has expired`. */
  readonly message: string;
  /** For the log and the audit record only (issuer, kid, the verifier's error code…); never the token. */
  readonly detail: Readonly<Record<string, unknown>>;
}

/** A success or a failure as a value. */
export type Result<T, E> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

const STATUS: Record<AuthnErrorCode, AuthnError['status']> = {
  AUTHN_MISSING: 401,
  AUTHN_INVALID: 401,
  AUTHN_BAD_REQUEST: 400,
  AUTHN_ISSUER_UNAVAILABLE: 503,
};

const BEARER_ERROR: Partial<Record<AuthnErrorCode, AuthnError['bearerError']>> = {
  AUTHN_INVALID: 'invalid_token',
  AUTHN_BAD_REQUEST: 'invalid_request',
};

/** Make an authentication failure. */
export function authnError(code: AuthnErrorCode, message: string, detail: Record<string, unknown> = {}): AuthnError {
  const bearerError = BEARER_ERROR[code];
  return Object.freeze({ code, status: STATUS[code], ...(bearerError ? { bearerError } : {}), message, detail: Object.freeze({ ...detail }) });
}

/** A failed result. */
export function fail<T>(error: AuthnError): Result<T, AuthnError> {
  return { ok: false, error };
}

/** A successful result. */
export function ok<T>(value: T): Result<T, AuthnError> {
  return { ok: true, value };
}
