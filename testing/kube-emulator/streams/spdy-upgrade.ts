/**
 * The SPDY/3.1 HTTP upgrade of k8s.io/apimachinery/pkg/util/httpstream/spdy/upgrade.go with the
 * protocol negotiation of httpstream.Handshake: the client lists X-Stream-Protocol-Version headers
 * in preference order, the server picks the first it supports, answers 101 with
 * `Connection: Upgrade`, `Upgrade: SPDY/3.1` and the chosen version, then both speak SPDY on the
 * raw connection (streams are opened by the client). The session ends when the server, done,
 * sends GOAWAY and the client closes the connection (closing first could lose buffered frames
 * client-side: spdystream drops queued frames when the connection goes).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { SpdySession, type SpdyStream } from './spdy-session.ts';

export function clientProtocols(req: IncomingMessage): string[] {
  const raw = req.headersDistinct?.['x-stream-protocol-version'] ?? [];
  return raw.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
}

/** httpstream.Handshake: the first client protocol the server supports; '' when none were sent. */
export function negotiate(req: IncomingMessage, supported: string[]): string | null {
  const offered = clientProtocols(req);
  if (offered.length === 0) return '';
  for (const p of offered) if (supported.includes(p)) return p;
  return null;
}

export function isSpdyUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase().startsWith('spdy/3.1');
}

/** Answer 101 and start a server SPDY session on the socket. */
export function upgradeToSpdy(
  socket: Duplex,
  head: Buffer,
  protocol: string,
  onStream: (s: SpdyStream) => void,
  onClose: () => void,
): SpdySession {
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\n' +
      'Connection: Upgrade\r\n' +
      'Upgrade: SPDY/3.1\r\n' +
      (protocol ? `X-Stream-Protocol-Version: ${protocol}\r\n` : '') +
      `Date: ${new Date().toUTCString()}\r\n` +
      '\r\n',
  );
  const session = new SpdySession(
    {
      write: (b) => {
        if (!socket.destroyed) socket.write(b);
      },
      end: () => socket.destroy(),
    },
    { server: true, onStream, onClose },
  );
  const setNoDelay = (socket as Duplex & { setNoDelay?: (v: boolean) => void }).setNoDelay;
  setNoDelay?.call(socket, true);
  socket.on('data', (b: Buffer) => session.receive(b));
  socket.on('end', () => {
    session.transportClosed();
    socket.end();
  });
  socket.on('close', () => session.transportClosed());
  socket.on('error', () => session.transportClosed());
  if (head.length) session.receive(head);
  return session;
}

/** Send GOAWAY and give the client `graceMs` to close the connection before destroying it. */
export function finishSpdy(session: SpdySession, socket: Duplex | null, graceMs = 30_000): void {
  session.goAway();
  const t = setTimeout(() => session.destroy(), graceMs);
  t.unref?.();
  socket?.once('close', () => clearTimeout(t));
}
