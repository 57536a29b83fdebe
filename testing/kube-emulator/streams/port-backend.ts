/**
 * What listens inside an emulated pod for port-forward: on every declared containerPort (and 80
 * and 8080) a small HTTP/1.1 responder that answers one request per connection with 200 and a body
 * naming the pod. Other ports are refused with the kubelet/containerd error text.
 */
import type { Readable } from 'node:stream';
import type { KubeObject } from '../types.ts';
import { containerPorts, containersOf } from './pod-info.ts';

export interface ForwardedConn {
  /** Bytes from the client. */
  incoming: Readable;
  write(data: Buffer | string): void;
  /** Half-close toward the client. */
  end(): void;
}

export function portOpen(pod: KubeObject, port: number): boolean {
  return port === 80 || port === 8080 || containerPorts(pod).includes(port);
}

export function refusedMessage(pod: KubeObject, port: number): string {
  const uid = pod.metadata.uid ?? '';
  return (
    `error forwarding port ${port} to pod ${uid}, uid : failed to execute portforward in network namespace ` +
    `"/var/run/netns/cni-emulated": failed to connect to localhost:${port} inside namespace "${uid}", ` +
    `IPv4: dial tcp4 127.0.0.1:${port}: connect: connection refused IPv6 dial tcp6 [::1]:${port}: connect: connection refused `
  );
}

/** Serve one HTTP exchange on a forwarded connection. */
export function serveHttpOnce(pod: KubeObject, namespace: string, name: string, port: number, conn: ForwardedConn): void {
  let buf = Buffer.alloc(0);
  let done = false;
  const onData = (chunk: Buffer): void => {
    if (done) return;
    buf = Buffer.concat([buf, chunk]);
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) {
      if (buf.length > 64 * 1024) respond('HTTP/1.1 431 Request Header Fields Too Large', 'request headers too large\n', 'GET', '/');
      return;
    }
    const head = buf.subarray(0, end).toString('latin1');
    const [requestLine = ''] = head.split('\r\n');
    const [method = 'GET', path = '/'] = requestLine.split(' ');
    const container = containersOf(pod)[0]?.name ?? 'app';
    const body =
      `Hello from pod ${namespace}/${name} (container ${container}, port ${port})\n` + `You asked for ${method} ${path}\n`;
    respond('HTTP/1.1 200 OK', body, method, path);
  };
  function respond(statusLine: string, body: string, method: string, _path: string): void {
    done = true;
    const b = Buffer.from(body, 'utf8');
    conn.write(
      `${statusLine}\r\n` +
        `Date: ${new Date().toUTCString()}\r\n` +
        'Content-Type: text/plain; charset=utf-8\r\n' +
        `Content-Length: ${b.length}\r\n` +
        `X-Served-By: ${namespace}/${name}\r\n` +
        'Connection: close\r\n\r\n',
    );
    if (method !== 'HEAD') conn.write(b);
    conn.end();
    conn.incoming.resume();
  }
  conn.incoming.on('data', onData);
}
