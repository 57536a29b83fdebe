/**
 * The in-process Kubernetes client: the requests Sluice makes for a caller of another protocol
 * (an MCP tool call, issue #7) enter the very pipeline kubectl's requests do — authorize, hold
 * for approval, record, forward, mask — so no protocol has a side door to a cluster.
 *
 * It speaks real HTTP/1.1 over an in-memory connection: Node's HTTP client writes the request,
 * a private `http.Server` (it never listens on a port) parses it and hands it to the Kubernetes
 * handler, and exec goes through a WebSocket upgrade with `ws`, as kubectl's does. So framing,
 * streaming and upgrades behave exactly as for a network client, and nothing is buffered in the
 * pipeline. The caller's identity is bound to the connection object itself (a WeakMap), which
 * nothing outside this process can reach: there is no header or secret that could carry it.
 *
 * Answers are read up to a bound (`maxBytes`) and the connection is closed past it; the caller's
 * AbortSignal closes the connection too, which the pipeline sees as a client that went away (a
 * held request stops waiting, and its approval stays open for a retry).
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import { Duplex } from 'node:stream';
import WebSocket from 'ws';
import type { KubernetesHandler } from './handler.ts';
import type { InternalCaller } from './pipeline/context.ts';

export interface InternalRequest {
  method: string;
  /** Path and query as a client sends them, with the connection prefix: `/clusters/demo/api/v1/…?…`. */
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface InternalAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The answer was longer than `maxBytes` and was cut there. */
  truncated: boolean;
  /** The gateway's id of the request (its audit record). */
  requestId?: string;
  /** Sluice's error code when Sluice refused the request (docs/errors.md). */
  sluiceError?: string;
}

export interface InternalExec {
  /** As for InternalRequest: `/clusters/demo/api/v1/namespaces/dev/pods/web/exec?command=…`. */
  url: string;
  timeoutMs: number;
}

export interface InternalExecAnswer {
  /** 101 when the session ran; the refusal's status otherwise. */
  status: number;
  stdout: Buffer;
  stderr: Buffer;
  /** The Status the API server sent on the error channel at the end (exit code), if any. */
  exitStatus?: unknown;
  /** The body of a refused upgrade (a Kubernetes Status), if any. */
  refusal?: unknown;
  timedOut: boolean;
  truncated: boolean;
  requestId?: string;
  sluiceError?: string;
}

export interface InternalCallOptions {
  /** Largest answer read (bytes); default 4 MiB. */
  maxBytes?: number;
  signal?: AbortSignal;
}

export interface InternalKubeClient {
  request(caller: InternalCaller, req: InternalRequest, opts?: InternalCallOptions): Promise<InternalAnswer>;
  exec(caller: InternalCaller, req: InternalExec, opts?: InternalCallOptions): Promise<InternalExecAnswer>;
}

const DEFAULT_MAX_BYTES = 4 << 20;
/** The Host of internal requests: a name no DNS resolves, seen only by the private server. */
const INTERNAL_HOST = 'sluice.internal';
/** kubectl's exec subprotocols, newest first (v5 adds the close signal; v4 the exit Status). */
const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
const CHANNEL = { stdout: 1, stderr: 2, error: 3 } as const;

/** Socket methods Node's HTTP server and `ws` call on a connection; an in-memory one has nothing to tune. */
function socketLike(d: Duplex): Duplex {
  return Object.assign(d, { setTimeout: () => d, setNoDelay: () => d, setKeepAlive: () => d, remoteAddress: undefined, remotePort: undefined });
}

/**
 * Two connected in-memory streams: what one writes, the other reads; ending one ends the other's
 * input, destroying one destroys both (so the server sees a client go away).
 */
function connectedPair(): [Duplex, Duplex] {
  const sides: Duplex[] = [];
  const other = (i: number): Duplex => sides[1 - i]!;
  const make = (i: number): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        other(i).push(chunk);
        cb();
      },
      final(cb) {
        other(i).push(null);
        cb();
      },
      destroy(err, cb) {
        if (!other(i).destroyed) other(i).destroy();
        cb(err);
      },
    });
  sides.push(socketLike(make(0)), socketLike(make(1)));
  return [sides[0]!, sides[1]!];
}

export function createInternalKubeClient(handler: KubernetesHandler): InternalKubeClient {
  const callers = new WeakMap<object, InternalCaller>();
  // Timeouts belong to the caller (its signal, the exec time limit), not to this server.
  const server = http.createServer({ requestTimeout: 0, headersTimeout: 0, keepAliveTimeout: 0 });
  server.on('request', (req, res) => {
    const caller = callers.get(req.socket);
    if (!caller) return void res.writeHead(500).end();
    handler.handleRequest(req, res, caller);
  });
  server.on('upgrade', (req, socket, head) => {
    const caller = callers.get(socket);
    if (!caller) return void socket.destroy();
    handler.handleUpgrade(req, socket, head, caller);
  });

  /** A fresh connection whose server side carries the caller (wrapped to learn the request id and any refusal). */
  function connect(caller: InternalCaller, seen: { requestId?: string; sluiceError?: string }): Duplex {
    const [client, serverSide] = connectedPair();
    callers.set(serverSide, {
      ...caller,
      onStart(id) {
        seen.requestId = id;
        caller.onStart?.(id);
      },
      onRefused(code, id) {
        seen.sluiceError = code;
        caller.onRefused?.(code, id);
      },
    });
    server.emit('connection', serverSide);
    return client;
  }

  return {
    request(caller, r, opts = {}) {
      const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
      const seen: { requestId?: string; sluiceError?: string } = {};
      return new Promise<InternalAnswer>((resolve, reject) => {
        const body = r.body === undefined ? undefined : Buffer.from(r.body);
        const headers: Record<string, string> = { host: INTERNAL_HOST, ...r.headers };
        if (body) headers['content-length'] = String(body.length);
        const req = http.request({ method: r.method, path: r.url, headers, createConnection: () => connect(caller, seen) as never });
        const abort = (): void => void req.destroy(new Error('the call was cancelled'));
        opts.signal?.addEventListener('abort', abort, { once: true });
        const done = (): void => opts.signal?.removeEventListener('abort', abort);
        req.on('error', (e) => {
          done();
          reject(e);
        });
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          let truncated = false;
          const finish = (): void => {
            done();
            // The id the pipeline reported, not a response header (which an upstream could set).
            const requestId = seen.requestId;
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks, size),
              truncated,
              ...(requestId ? { requestId } : {}),
              ...(seen.sluiceError ? { sluiceError: seen.sluiceError } : {}),
            });
          };
          res.on('data', (c: Buffer) => {
            if (truncated) return;
            const room = maxBytes - size;
            if (c.length > room) {
              chunks.push(c.subarray(0, room));
              size = maxBytes;
              truncated = true;
              finish();
              req.destroy();
              return;
            }
            chunks.push(c);
            size += c.length;
          });
          res.on('end', () => truncated || finish());
          res.on('error', (e) => truncated || (done(), reject(e)));
        });
        req.end(body);
      });
    },

    exec(caller, r, opts = {}) {
      const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
      const seen: { requestId?: string; sluiceError?: string } = {};
      return new Promise<InternalExecAnswer>((resolve, reject) => {
        const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
        let size = 0;
        let truncated = false;
        let timedOut = false;
        let exitStatus: unknown;
        let settled = false;
        const ws = new WebSocket(`ws://${INTERNAL_HOST}${r.url}`, EXEC_PROTOCOLS, {
          createConnection: () => connect(caller, seen) as never,
          perMessageDeflate: false,
          maxPayload: maxBytes + 1,
        });
        // The time limit is the session's: it starts once the upgrade succeeded, so a request
        // held for approval waits for the approver (bounded by the approval's expiry and the
        // caller's signal), not for `timeoutMs`.
        let timer: NodeJS.Timeout | undefined;
        ws.on('open', () => {
          timer = setTimeout(() => {
            timedOut = true;
            ws.close(1000);
          }, r.timeoutMs);
        });
        const abort = (): void => ws.terminate();
        opts.signal?.addEventListener('abort', abort, { once: true });
        const settle = (answer: InternalExecAnswer | Error): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', abort);
          const ids = { ...(seen.requestId ? { requestId: seen.requestId } : {}), ...(seen.sluiceError ? { sluiceError: seen.sluiceError } : {}) };
          if (answer instanceof Error) reject(answer);
          else resolve({ ...answer, ...ids });
        };
        ws.on('unexpected-response', (_req, res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.length < 64 && chunks.push(c));
          res.on('end', () => {
            let refusal: unknown;
            try {
              refusal = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              refusal = Buffer.concat(chunks).toString('utf8').slice(0, 2000);
            }
            settle({ status: res.statusCode ?? 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), refusal, timedOut: false, truncated: false });
            ws.terminate();
          });
        });
        ws.on('message', (data: Buffer, isBinary) => {
          if (!isBinary || data.length === 0) return;
          const channel = data[0];
          const payload = data.subarray(1);
          if (channel === CHANNEL.error) {
            try {
              exitStatus = JSON.parse(payload.toString('utf8'));
            } catch {
              exitStatus = payload.toString('utf8').slice(0, 2000);
            }
            return;
          }
          const stream = channel === CHANNEL.stdout ? out.stdout : channel === CHANNEL.stderr ? out.stderr : undefined;
          if (!stream || truncated) return;
          const room = maxBytes - size;
          stream.push(payload.length > room ? payload.subarray(0, room) : payload);
          size += Math.min(room, payload.length);
          if (payload.length > room) {
            truncated = true;
            ws.close(1000);
          }
        });
        ws.on('close', () =>
          settle({
            status: 101,
            stdout: Buffer.concat(out.stdout),
            stderr: Buffer.concat(out.stderr),
            ...(exitStatus !== undefined ? { exitStatus } : {}),
            timedOut,
            truncated,
          }),
        );
        ws.on('error', (e) => {
          // After an unexpected response `ws` reports an error too; the refusal was answered.
          if (!settled && !opts.signal?.aborted) settle(e);
          else if (opts.signal?.aborted) settle(new Error('the call was cancelled'));
        });
      });
    },
  };
}
