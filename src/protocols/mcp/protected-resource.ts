/**
 * The MCP endpoint as an OAuth 2.0 protected resource (MCP specification 2025-11-25,
 * "Basic / Authorization"):
 * - its metadata document (RFC 9728 §2, §3): `resource` — the canonical URI that access tokens
 *   must be issued for (RFC 8707) — and the `authorization_servers` a client logs in with, served
 *   at the path-inserted well-known URI `/.well-known/oauth-protected-resource/mcp` (§3.1) and,
 *   for clients that try the root first, at `/.well-known/oauth-protected-resource`;
 * - the `WWW-Authenticate` challenge of a 401 (RFC 9728 §5.1, RFC 6750 §3): `resource_metadata`
 *   points at that document, so a client that has no token, or a token for another audience,
 *   finds where to get one.
 */

export interface ProtectedResource {
  /** The resource identifier (`https://host:port/mcp`). */
  resource: string;
  /** Where the metadata document is served. */
  metadataUrl: string;
  /** Paths of the listener that answer with the document. */
  metadataPaths: readonly string[];
  document: Record<string, unknown>;
}

export const MCP_PATH = '/mcp';
const WELL_KNOWN = '/.well-known/oauth-protected-resource';

export function protectedResource(resource: string, authorizationServers: readonly string[], scopes: readonly string[]): ProtectedResource {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  const metadataUrl = `${url.origin}${WELL_KNOWN}${path}`;
  return {
    resource,
    metadataUrl,
    metadataPaths: [`${WELL_KNOWN}${path}`, WELL_KNOWN],
    document: {
      resource,
      authorization_servers: [...authorizationServers],
      bearer_methods_supported: ['header'],
      scopes_supported: [...scopes],
      resource_name: 'Sluice MCP endpoint',
    },
  };
}

/** The challenge of a 401: no token (`error` absent, RFC 6750 §3.1), or an invalid one. */
export function bearerChallenge(pr: ProtectedResource, scopes: readonly string[], error?: { error: string; description: string }): string {
  const q = (s: string): string => s.replace(/["\\]/g, '');
  const parts = [`resource_metadata="${pr.metadataUrl}"`, `scope="${q(scopes.join(' '))}"`];
  if (error) parts.push(`error="${error.error}"`, `error_description="${q(error.description)}"`);
  return `Bearer ${parts.join(', ')}`;
}
