/**
 * Stage 1 — authenticate. The bearer token (exactly one `Authorization` header, none in the
 * query) is verified as an OIDC JWT of a configured issuer; the result is the Principal. No
 * valid identity → 401 (400 for ambiguous credentials, 503 when the issuer's keys cannot be
 * fetched: fail closed). The token itself never leaves this stage. Requests of the in-process
 * client (context.ts, InternalCaller) come with the principal their protocol verified.
 */
import { extractBearerToken } from '../../../authn/bearer-token.ts';
import type { Stage } from './context.ts';
import { Rejection } from './rejection.ts';

const REASON = { 400: 'BadRequest', 401: 'Unauthorized', 503: 'ServiceUnavailable' } as const;

export const authenticate: Stage = {
  name: 'authenticate',
  async run(ctx) {
    // A request of the in-process client carries the principal its own protocol verified (an
    // MCP access token for the MCP endpoint's audience); it has no token to check here.
    if (ctx.caller) {
      ctx.principal = ctx.caller.principal;
      return;
    }
    const token = extractBearerToken(ctx.req.rawHeaders, ctx.req.url ?? '/');
    const result = token.ok ? await ctx.deps.verifier.verify(token.value) : token;
    if (!result.ok) {
      const e = result.error;
      const challenge = e.bearerError ? `Bearer realm="sluice", error="${e.bearerError}"` : 'Bearer realm="sluice"';
      throw new Rejection(e.code, e.status, REASON[e.status], e.message, { ...e.detail }, e.status === 401 ? { 'www-authenticate': challenge } : {});
    }
    ctx.principal = result.value;
  },
};
