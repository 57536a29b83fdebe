/**
 * pods/portforward in its three shapes:
 *  - SPDY/3.1 (X-Stream-Protocol-Version: portforward.k8s.io), kubelet
 *    pkg/kubelet/cri/streaming/portforward/httpstream.go: per forwarded connection the client
 *    opens an error stream and a data stream carrying `streamType`, `port` and `requestID`
 *    headers; once both of a pair are there the server connects them to the port, writes any
 *    failure on the error stream and half-closes both.
 *  - SPDY tunnelled in WebSocket binary messages (KEP-4006, PortForwardWebsockets; subprotocol
 *    `SPDY/3.1+portforward.k8s.io`, client-go tools/portforward/tunneling_connection.go): the same
 *    SPDY session, without the HTTP upgrade inside.
 *  - The older WebSocket channel protocol (kubelet portforward/websocket.go,
 *    `v4.channel.k8s.io` / `v4.base64.channel.k8s.io` / `portforward.k8s.io`, `?ports=`): per
 *    port a data (2i) and an error (2i+1) channel, each starting with the port as uint16 LE.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { PassThrough } from 'node:stream';
import type { WebSocket } from 'ws';
import type { PodStreamContext } from '../types.ts';
import { rejectUpgrade, statusFailure } from '../status.ts';
import { SpdySession, type SpdyStream } from './spdy-session.ts';
import { finishSpdy, negotiate, upgradeToSpdy } from './spdy-upgrade.ts';
import { portOpen, refusedMessage, serveHttpOnce } from './port-backend.ts';
import { fromToken } from './ws-subprotocol.ts';

export const PORTFORWARD_SPDY_PROTOCOLS = ['portforward.k8s.io'];
export const PORTFORWARD_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';
export const PORTFORWARD_WS_PROTOCOLS = [PORTFORWARD_TUNNEL_PROTOCOL, 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'portforward.k8s.io'];

type Track = (stop: () => void) => () => void;

/** Pairs streams by requestID and serves each pair (shared by raw SPDY and the WS tunnel). */
function portForwardStreamHandler(ctx: PodStreamContext): (s: SpdyStream) => void {
  const pairs = new Map<string, { data?: SpdyStream; error?: SpdyStream; timer: NodeJS.Timeout }>();
  return (s) => {
    s.reply();
    const type = (s.header('streamtype') ?? '').toLowerCase();
    const portRaw = s.header('port') ?? '';
    // Old clients send no requestID: the kubelet derives it from the stream ids (error n, data n+2).
    const requestId = s.header('requestid') ?? String(type === 'data' ? s.id - 2 : s.id);
    const port = Number(portRaw);
    if ((type !== 'data' && type !== 'error') || !/^\d+$/.test(portRaw) || port < 1 || port > 65535) {
      s.reset();
      return;
    }
    let pair = pairs.get(requestId);
    if (!pair) {
      const timer = setTimeout(() => {
        const p = pairs.get(requestId);
        pairs.delete(requestId);
        p?.data?.reset();
        p?.error?.reset();
      }, 30_000);
      timer.unref?.();
      pair = { timer };
      pairs.set(requestId, pair);
    }
    if (type === 'data') pair.data = s;
    else pair.error = s;
    if (!pair.data || !pair.error) return;
    clearTimeout(pair.timer);
    pairs.delete(requestId);
    const { data, error } = pair;
    error.incoming.resume();
    if (!portOpen(ctx.pod, port)) {
      error.end(refusedMessage(ctx.pod, port));
      data.end();
      return;
    }
    serveHttpOnce(ctx.pod, ctx.namespace, ctx.name, port, {
      incoming: data.incoming,
      write: (b) => data.write(b),
      end: () => {
        data.end();
        error.end();
      },
    });
  };
}

export function serveSpdyPortForward(ctx: PodStreamContext, req: IncomingMessage, socket: Duplex, head: Buffer, track: Track): void {
  const protocol = negotiate(req, PORTFORWARD_SPDY_PROTOCOLS);
  if (protocol === null) {
    ctx.setStatus(403);
    rejectUpgrade(socket, statusFailure(403, 'Forbidden', `unable to upgrade: unable to negotiate protocol: server supports [portforward.k8s.io]`));
    return;
  }
  let untrack: () => void = () => {};
  const session = upgradeToSpdy(socket, head, protocol, portForwardStreamHandler(ctx), () => untrack());
  ctx.setStatus(101);
  if (!session.closed) untrack = track(() => finishSpdy(session, socket, 1000));
}

export function serveWsPortForward(ctx: PodStreamContext, ws: WebSocket, track: Track): void {
  ctx.setStatus(101);
  if (fromToken(ws.protocol) === PORTFORWARD_TUNNEL_PROTOCOL) {
    const session = new SpdySession(
      { write: (b) => ws.readyState === ws.OPEN && ws.send(b, { binary: true }), end: () => ws.close(1000) },
      { server: true, onStream: portForwardStreamHandler(ctx), onClose: () => untrack() },
    );
    const untrack = track(() => session.destroy());
    ws.on('message', (raw: Buffer | ArrayBuffer | Buffer[]) => {
      session.receive(Array.isArray(raw) ? Buffer.concat(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw));
    });
    ws.on('close', () => session.transportClosed());
    ws.on('error', () => session.transportClosed());
    return;
  }
  serveWsChannelPortForward(ctx, ws, track);
}

function serveWsChannelPortForward(ctx: PodStreamContext, ws: WebSocket, track: Track): void {
  const base64 = ws.protocol.includes('base64');
  const ports = ctx.query
    .getAll('ports')
    .flatMap((p) => p.split(','))
    .map((p) => Number(p.trim()))
    .filter((p) => Number.isInteger(p) && p > 0 && p < 65536);
  const send = (channel: number, data: Buffer): void => {
    if (ws.readyState !== ws.OPEN) return;
    if (base64) ws.send(`${channel}${data.toString('base64')}`);
    else ws.send(Buffer.concat([Buffer.from([channel]), data]), { binary: true });
  };
  const portPrefix = (p: number): Buffer => {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(p);
    return b;
  };
  const inputs: PassThrough[] = [];
  ports.forEach((port, i) => {
    send(2 * i, portPrefix(port));
    send(2 * i + 1, portPrefix(port));
    const incoming = new PassThrough();
    inputs[i] = incoming;
    if (!portOpen(ctx.pod, port)) {
      send(2 * i + 1, Buffer.from(refusedMessage(ctx.pod, port)));
      return;
    }
    serveHttpOnce(ctx.pod, ctx.namespace, ctx.name, port, {
      incoming,
      write: (b) => send(2 * i, typeof b === 'string' ? Buffer.from(b) : b),
      end: () => {
        // The channel protocol has no half-close: the connection ends with the exchange.
        if (ports.length === 1) ws.close(1000);
      },
    });
  });
  ws.on('message', (raw: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    const buf = Array.isArray(raw) ? Buffer.concat(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
    if (!buf.length) return;
    const channel = base64 && !isBinary ? (buf[0] ?? 0x30) - 0x30 : (buf[0] ?? 0);
    const payload = base64 && !isBinary ? Buffer.from(buf.subarray(1).toString('latin1'), 'base64') : buf.subarray(1);
    if (channel % 2 === 0) inputs[channel / 2]?.write(payload);
  });
  const untrack = track(() => ws.terminate());
  ws.on('close', () => {
    untrack();
    for (const i of inputs) i?.end();
  });
}
