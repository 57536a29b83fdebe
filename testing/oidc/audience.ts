/**
 * Audiences and resource indicators (RFC 8707). oidc-provider issues a JWT access token for a
 * *resource indicator*, which must be an absolute URI, and stamps the resource server's
 * `audience` into `aud`. Kubernetes-style audiences are plain strings ("sluice", like
 * kube-apiserver's --oidc-client-id), so a plain string is carried as `urn:sluice:audience:<aud>`
 * and an absolute URI is used as it is (its audience is then the URI itself).
 */

const PREFIX = 'urn:sluice:audience:';

/** The resource indicator to request for an audience. */
export function resourceForAudience(audience: string): string {
  if (audience.startsWith(PREFIX)) return audience;
  return URL.canParse(audience) ? audience : PREFIX + encodeURIComponent(audience);
}

/** The audience (`aud`) that tokens for a resource indicator carry. */
export function audienceForResource(resource: string): string {
  return resource.startsWith(PREFIX) ? decodeURIComponent(resource.slice(PREFIX.length)) : resource;
}
