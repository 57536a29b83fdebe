/**
 * Stage 9 (upgrades) — exec, attach and port-forward over WebSocket or SPDY/3.1. The request was
 * authorized before this point; it is forwarded with Sluice's credentials and, only when the
 * API server answers `101 Switching Protocols`, the two sockets are spliced. Any other answer is
 * passed to the client and the connection is closed: no raw tunnel is ever left open behind a
 * failed upgrade (CVE-2018-1002105).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { upstreamRequest } from './upstream-request.ts';
import { responseHeaders } from './response-headers.ts';
import { elapsedMs } from './forward-http.ts';
import type { KubeContext } from './pipeline/context.ts';
import { Rejection } from './pipeline/rejection.ts';

const ALLOWED_UPGRADES = /^(websocket|spdy\/3\.1)$/i;

/** How long the other side of a splice may still flush after one side has closed. */
const SPLICE_DRAIN_MS = 10_000;

export function checkUpgrade(req: IncomingMessage): string {
  const upgrade = req.headers.upgrade ?? '';
  if (!ALLOWED_UPGRADES.test(upgrade)) {
    throw new Rejection('REQUEST_INVALID', 400, 'BadRequest', `unsupported upgrade ${JSON.stringify(upgrade.slice(0, 40))}: only websocket and SPDY/3.1`);
  }
  return upgrade;
}

function head(status: number, message: string, headers: [string, string][]): string {
  return `HTTP/1.1 ${status} ${message}\r\n${headers.map(([k, v]) => `${k}: ${v}`).join('\r\n')}${headers.length ? '\r\n' : ''}\r\n`;
}

export async function forwardUpgrade(ctx: KubeContext, socket: Duplex, firstBytes: Buffer): Promise<void> {
  const up = ctx.upstream!;
  const upgrade = checkUpgrade(ctx.req);
  const upstreamReq = await upstreamRequest(ctx, { upgrade });
  let bytesIn = 0;
  let bytesOut = 0;
  let done = false;
  const complete = (status: number, error?: { code: string; message: string }): void => {
    if (done) return;
    done = true;
    ctx.audit!.complete({ status, bytesIn, bytesOut, durationMs: elapsedMs(ctx), ...(error ? { error } : {}) }).catch((e: unknown) =>
      ctx.deps.log.error({ id: ctx.id, err: (e as Error).message }, 'audit completion failed'),
    );
  };
  socket.on('error', () => upstreamReq.destroy());

  await new Promise<void>((resolve, reject) => {
    upstreamReq.on('upgrade', (res: IncomingMessage, upstreamSocket: Duplex, upstreamHead: Buffer) => {
      // Node emits 'upgrade' only for 101 Switching Protocols.
      const extra: [string, string][] = [['Connection', 'Upgrade']];
      if (ctx.warning) extra.push(['Warning', `299 - ${JSON.stringify(ctx.warning)}`]);
      socket.write(head(101, 'Switching Protocols', responseHeaders(res.rawHeaders, true).concat(extra)));
      if (upstreamHead.length) {
        bytesOut += upstreamHead.length;
        socket.write(upstreamHead);
      }
      if (firstBytes.length) {
        bytesIn += firstBytes.length;
        upstreamSocket.write(firstBytes);
      }
      socket.on('data', (c: Buffer) => (bytesIn += c.length));
      upstreamSocket.on('data', (c: Buffer) => (bytesOut += c.length));
      // Splice. An end on one side is passed on as an end (pipe), so bytes still in flight are
      // delivered (kubectl cp's last tar blocks); once one side has closed, the other gets
      // SPLICE_DRAIN_MS to finish before it is destroyed. Errors tear both down at once.
      socket.pipe(upstreamSocket);
      upstreamSocket.pipe(socket);
      let open = 2;
      const closed = (other: Duplex) => (): void => {
        if (--open === 0) {
          complete(101);
          return;
        }
        other.end();
        setTimeout(() => other.destroy(), SPLICE_DRAIN_MS).unref();
      };
      socket.once('close', closed(upstreamSocket));
      upstreamSocket.once('close', closed(socket));
      socket.on('error', () => upstreamSocket.destroy());
      upstreamSocket.on('error', () => socket.destroy());
      resolve();
    });
    upstreamReq.on('response', (res: IncomingMessage) => {
      // Not upgraded: relay the answer and close the client connection.
      const status = res.statusCode ?? 502;
      socket.write(head(status, STATUS_CODES[status] ?? '', [...responseHeaders(res.rawHeaders).filter(([k]) => k.toLowerCase() !== 'content-length'), ['Connection', 'close']]));
      res.on('data', (c: Buffer) => {
        bytesOut += c.length;
        socket.write(c);
      });
      res.on('end', () => {
        socket.end();
        complete(status);
      });
      res.on('error', () => socket.destroy());
      resolve();
    });
    upstreamReq.on('error', (e) => {
      reject(new Rejection('UPSTREAM_UNAVAILABLE', 502, 'InternalError', `sluice: the API server of connection ${up.name} is unavailable`, { cause: e.message }));
    });
    upstreamReq.end();
  });
}
