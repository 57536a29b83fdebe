/**
 * Response headers passed back to the client: everything but hop-by-hop headers (RFC 9110
 * §7.6.1) and those the upstream named in `Connection`. Node frames the body again itself.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/** Upstream raw headers → [name, value] pairs safe to send to the client. */
export function responseHeaders(rawHeaders: readonly string[], keepUpgrade = false): [string, string][] {
  const listed = new Set<string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === 'connection') for (const t of rawHeaders[i + 1]!.split(',')) listed.add(t.trim().toLowerCase());
  }
  if (keepUpgrade) listed.delete('upgrade');
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    if ((HOP_BY_HOP.has(lower) && !(keepUpgrade && lower === 'upgrade')) || listed.has(lower)) continue;
    out.push([name, rawHeaders[i + 1]!]);
  }
  return out;
}
