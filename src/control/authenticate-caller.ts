/**
 * authenticateCaller: the verified principal of a control API request, exactly as the
 * Kubernetes pipeline authenticates (src/protocols/kubernetes/pipeline/authenticate.ts): one
 * `Authorization: Bearer` header, no token in the query, verified by the same verifier. No
 * valid identity → 401 with a `WWW-Authenticate` challenge (400 for ambiguous credentials,
 * 503 when the issuer's keys cannot be fetched: fail closed, and no login loop).
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { extractBearerToken } from '../authn/bearer-token.ts';
import type { TokenVerifier } from '../authn/create-verifier.ts';
import type { VerifiedPrincipal } from '../authn/principal-from-claims.ts';
import { ControlProblem } from './control-error.ts';

export async function authenticateCaller(req: IncomingMessage, verifier: TokenVerifier, log: Logger): Promise<VerifiedPrincipal> {
  const token = extractBearerToken(req.rawHeaders, req.url ?? '/');
  const result = token.ok ? await verifier.verify(token.value) : token;
  if (result.ok) return result.value;
  const e = result.error;
  log.info({ code: e.code, detail: e.detail }, `control API: authentication failed: ${e.message}`);
  const challenge = e.bearerError ? `Bearer realm="sluice", error="${e.bearerError}"` : 'Bearer realm="sluice"';
  throw new ControlProblem(e.status, e.code, e.message, e.status === 401 ? { 'www-authenticate': challenge } : {}, { ...e.detail });
}
