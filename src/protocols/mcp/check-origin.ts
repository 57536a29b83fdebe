/**
 * DNS-rebinding protection for the MCP endpoint (MCP specification 2025-11-25, "Basic /
 * Transports / Streamable HTTP / Security Warning": servers MUST validate the `Origin` header).
 * A web page of another site that resolves its own name to this gateway's address reaches the
 * endpoint with its own `Host` and `Origin`; both are refused with 403:
 * - `Origin`, when sent (browsers always send it on such requests), must be the resource's own
 *   origin, the listener's, or one of `mcp.allowedOrigins`;
 * - `Host` must be the resource's host, the listener's, one of `mcp.allowedHosts`, or — when the
 *   listener is bound to loopback — a loopback name with the listener's port.
 */

export interface OriginPolicy {
  origins: ReadonlySet<string>;
  hosts: ReadonlySet<string>;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

export function originPolicy(opts: { resource: string; listenerUrl: string; loopback: boolean; port: number; allowedOrigins: readonly string[]; allowedHosts: readonly string[] }): OriginPolicy {
  const resource = new URL(opts.resource);
  const listener = new URL(opts.listenerUrl);
  const origins = new Set([resource.origin, listener.origin, ...opts.allowedOrigins.map((o) => new URL(o).origin)]);
  const hosts = new Set([resource.host, listener.host, ...opts.allowedHosts.map((h) => h.toLowerCase())]);
  if (opts.loopback) for (const name of LOOPBACK_NAMES) hosts.add(`${name}:${opts.port}`);
  return { origins, hosts };
}

/** Why the request is refused, or undefined when its Host and Origin are acceptable. */
export function originRefusal(policy: OriginPolicy, host: string | undefined, origin: string | undefined): string | undefined {
  if (!host || !policy.hosts.has(host.toLowerCase())) return `Host ${JSON.stringify((host ?? '').slice(0, 100))} is not this endpoint's`;
  if (origin !== undefined) {
    let o: string;
    try {
      o = new URL(origin).origin;
    } catch {
      return `Origin ${JSON.stringify(origin.slice(0, 100))} is not a URL`;
    }
    if (!policy.origins.has(o)) return `Origin ${JSON.stringify(o.slice(0, 100))} is not allowed`;
  }
  return undefined;
}
