/**
 * Stage 2 — resolve the connection and canonicalize. Clients reach connection NAME at
 * `/clusters/NAME/…`; the rest of the path is what the API server will see. A non-canonical
 * path (`..`, `.`, `//`, encoded `/` or `\`, bad escapes) is refused with 400 before anything
 * else looks at it (SECURITY.md: "parse like the upstream parses … reject what is ambiguous").
 */
import { canonicalPathError } from '../request-info.ts';
import type { Stage } from './context.ts';
import { Rejection } from './rejection.ts';

const PREFIX = /^\/clusters\/([^/?#]+)(\/[^?#]*)?(\?.*)?$/;

export const resolveConnection: Stage = {
  name: 'resolve-connection',
  run(ctx) {
    const url = ctx.req.url ?? '/';
    const m = PREFIX.exec(url);
    const upstream = m ? ctx.deps.upstreams.get(decodeURIComponent(m[1]!)) : undefined;
    if (!m || !upstream) {
      throw new Rejection('CONNECTION_UNKNOWN', 404, 'NotFound', 'no such connection: Kubernetes API paths start with /clusters/<connection>/', {
        url: url.slice(0, 200),
      });
    }
    ctx.upstream = upstream;
    ctx.path = m[2] || '/';
    ctx.query = m[3] ?? '';
    const bad = canonicalPathError(ctx.path + ctx.query);
    if (bad) throw new Rejection('REQUEST_INVALID', 400, 'BadRequest', bad.status.message ?? 'invalid path', { path: ctx.path.slice(0, 200) });
  },
};
