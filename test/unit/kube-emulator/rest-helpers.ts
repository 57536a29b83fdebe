// Test helper: the REST layer behind a tiny plain-HTTP server (no authn: the server's job).
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseRequestInfo } from '../../../testing/kube-emulator/request-info.ts';
import { findResource } from '../../../testing/kube-emulator/resources.ts';
import { createRest } from '../../../testing/kube-emulator/rest/index.ts';
import type { CreateRestOptions, Rest } from '../../../testing/kube-emulator/rest/index.ts';
import { StatusError, sendStatus } from '../../../testing/kube-emulator/status.ts';

export interface Resp { status: number; headers: Record<string, string | string[] | undefined>; text: string; json: Record<string, unknown> }

export interface Harness {
  rest: Rest;
  url: string;
  call(method: string, path: string, opts?: { body?: unknown; contentType?: string; accept?: string }): Promise<Resp>;
  /** Read a watch stream until `count` events arrived or the stream ended. */
  watch(path: string, count: number, opts?: { accept?: string; during?: () => void | Promise<void> }): Promise<{ type: string; object: Record<string, unknown> }[]>;
  close(): Promise<void>;
}

export const ADMIN = { username: 'admin', groups: ['system:masters'] };

export async function harness(opts: CreateRestOptions = {}): Promise<Harness> {
  const rest = createRest({ seed: 'demo', podGraceMs: 50, namespaceTerminationMs: 50, podStartMs: 10, ...opts });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const info = parseRequestInfo(req.method ?? 'GET', req.url ?? '/');
      const def = findResource(info.apiGroup, info.apiVersion, info.resource);
      if (!def) return sendStatus(res, StatusError.of(404, 'NotFound', 'the server could not find the requested resource').status);
      const body = chunks.length ? Buffer.concat(chunks) : undefined;
      void rest.handle({ info, def, user: ADMIN, req, res, body, accept: req.headers.accept ?? '', contentType: req.headers['content-type'] ?? '' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call: Harness['call'] = (method, path, o = {}) =>
    new Promise((resolve, reject) => {
      const data = o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      const req = httpRequest(`${url}${path}`, {
        method,
        headers: {
          ...(data !== undefined ? { 'content-type': o.contentType ?? 'application/json', 'content-length': Buffer.byteLength(data) } : {}),
          accept: o.accept ?? 'application/json',
          'user-agent': 'kubectl/v1.33.0 (linux/amd64) kubernetes/test',
        },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      });
      req.on('error', reject);
      if (data !== undefined) req.write(data);
      req.end();
    });
  const watch: Harness['watch'] = (path, count, o = {}) =>
    new Promise((resolve, reject) => {
      const events: { type: string; object: Record<string, unknown> }[] = [];
      let buf = '';
      const req = httpRequest(`${url}${path}`, { headers: { accept: o.accept ?? 'application/json' } }, (res) => {
        res.setEncoding('utf8');
        let started = false;
        res.on('data', (c: string) => {
          buf += c;
          let i;
          while ((i = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            if (line.trim()) events.push(JSON.parse(line) as { type: string; object: Record<string, unknown> });
          }
          if (events.length >= count) {
            req.destroy();
            resolve(events);
          }
        });
        res.on('end', () => resolve(events));
        if (!started && o.during) {
          started = true;
          setTimeout(() => void o.during?.(), 30);
        }
      });
      req.on('error', (e) => (events.length >= count ? resolve(events) : reject(e)));
      req.end();
    });
  return {
    rest,
    url,
    call,
    watch,
    close: async () => {
      rest.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export const cm = (name: string, data: Record<string, string> = { a: '1' }, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...extra }, data,
});
