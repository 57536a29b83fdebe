/**
 * The registry of Sluice's stable error codes. Every error a user or operator can see carries
 * one of these codes; `docs/errors.md` documents each (a test keeps the two in sync).
 * Internal errors are not wire errors: protocol handlers answer in the client's own protocol
 * with a short reason, and the detail goes to the log and the audit record.
 */

export const ERROR_CODES = {
  CONFIG_NOT_FOUND: 'The configuration file does not exist or cannot be read.',
  CONFIG_INVALID: 'The configuration file is not valid YAML or does not match the schema.',
  KUBECTL_MISSING: 'A kubectl binary that a command or test needs is not installed.',
  DEMO_NOT_RUNNING: 'A demo command needs the demo world, which is not running or left no state.',
  DEMO_UNKNOWN_USER: 'The demo has no user or machine identity of that name.',
  TOKEN_FLOW_FAILED: 'The identity provider refused or broke off a token flow.',
  AUTHN_MISSING: 'The request carries no bearer token (or another scheme than Bearer).',
  AUTHN_INVALID: 'The bearer token is not a valid token of a configured identity provider.',
  AUTHN_BAD_REQUEST: 'The request presents its credentials ambiguously: two Authorization headers or a token in the query string.',
  AUTHN_ISSUER_UNAVAILABLE: "The identity provider's discovery document or signing keys could not be fetched, so no token of it can be verified.",
  POLICY_NOT_FOUND: 'A policy file or directory does not exist or cannot be read.',
  POLICY_INVALID: 'A policy file is not valid YAML or does not match the policy language.',
  REQUEST_INVALID: 'The request is malformed or ambiguous: a non-canonical path, an unsupported upgrade, or a body that does not parse.',
  REQUEST_TOO_LARGE: 'The request body is larger than the configured limit.',
  CONNECTION_UNKNOWN: 'The request names no configured connection.',
  POLICY_DENIED: 'The policy denies the request (a deny rule, or no rule allows it).',
  APPROVAL_REQUIRED: 'The policy requires approval for the request, and it could not be held for approval (approvals are off, or too many requests are held).',
  APPROVAL_DENIED: 'The held request was denied by an approver.',
  APPROVAL_EXPIRED: 'The held request was not approved in time.',
  APPROVAL_CONFLICT: 'The approval of this request was already spent by another attempt of the same request.',
  APPROVAL_NOT_FOUND: 'No approval has that id, or you may not see it.',
  APPROVAL_FORBIDDEN: 'You may not do that with this approval: not an eligible approver, your own request, or not your request.',
  APPROVAL_CLOSED: 'The approval is already decided (approved, denied, expired, spent or revoked).',
  APPROVAL_INVALID: 'An approval or access request is malformed: unknown role, a duration over the maximum, a missing reason.',
  RESPONSE_UNMASKABLE: 'Masking applies to the response but Sluice could not mask it (not JSON or text, malformed, an element over the size bound, an unknown encoding); it was not passed on.',
  MASKING_INVALID: 'The masking configuration is invalid: a rule path that does not parse, a hash rule without a key, a custom detector that can match nothing or backtracks catastrophically.',
  INTERNAL_ERROR: 'Sluice failed in a way it did not expect; the detail is in the gateway log, never on the wire.',
  CONTROL_API_UNAVAILABLE: 'The CLI could not reach the gateway\'s control API (wrong --server, gateway down, TLS not trusted).',
  UPSTREAM_UNAVAILABLE: 'The upstream API server could not be reached or broke off the exchange.',
  AUDIT_UNAVAILABLE: 'The audit trail could not record the request, so the request was refused.',
  POLICY_TEST_INVALID: 'A policy test-case file is not valid YAML or does not match the test-case format.',
  STORE_UNAVAILABLE: 'The embedded store (or its database) cannot be opened, read or written.',
  AUDIT_QUERY_INVALID: 'An audit query has a bad filter: an unparseable time, a limit out of range, a malformed cursor or id prefix.',
  AUDIT_RECORD_NOT_FOUND: 'No audit record has that id, or an id prefix matches more than one record.',
  AUDIT_NOT_REPLAYABLE: 'The audit record is not a terminal session (exec or attach of a pod), or nothing of it was recorded, so it cannot be replayed.',
  MCP_SESSION_UNKNOWN: 'The `Mcp-Session-Id` names no open MCP session of the caller (closed, idle too long, or opened by another identity): 404, initialize a new session.',
  MCP_CALL_CANCELLED: 'The MCP client cancelled a tool call (notifications/cancelled, tasks/cancel) or went away before it completed; a held request stops waiting and its approval stays open.',
  MCP_ORIGIN_REFUSED: 'A request to the MCP endpoint came with an `Origin` or `Host` that is neither the endpoint\'s own nor allowed (`mcp.allowedOrigins`, `mcp.allowedHosts`): 403, against DNS rebinding.',
  TRAIL_KEY_INVALID: 'The audit trail signing key file is missing, unreadable, not an Ed25519 private key or already exists (generate), or a trusted-keys file holds anything but Ed25519 public keys.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error with a stable code; `detail` is for logs, never for the wire. */
export class SluiceError extends Error {
  override readonly name = 'SluiceError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly detail?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function isSluiceError(e: unknown): e is SluiceError {
  return e instanceof SluiceError;
}
