/**
 * The CLI's client of the gateway's control API (src/control/control-api.ts). Commands
 * authenticate as the person running them: `--token` or `SLUICE_TOKEN` (never a stored
 * credential of Sluice's own). The server is `--server`/`SLUICE_SERVER`, else the running
 * demo's gateway (its `demo.json`); the CA is `--ca`/`SLUICE_CA`, else the demo's CA when
 * talking to the demo, else the system's.
 *
 * HTTP is undici's `request` over an Agent that trusts that CA. A connection that cannot be made
 * (refused, TLS not trusted, timeout) is CONTROL_API_UNAVAILABLE; an error answer of the API
 * becomes a SluiceError with the API's code and message, which `sluice` prints as
 * `sluice: <message> [CODE]` with exit status 2.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { Agent, request } from 'undici';
import { ERROR_CODES, SluiceError, type ErrorCode } from '../core/errors.ts';
import { loadConfig } from '../config/load-config.ts';
import type { ErrorJson } from '../control/wire-types.ts';

/** The control API's path prefix (src/control/control-api.ts CONTROL_API_PREFIX). */
const PREFIX = '/sluice/v1';

/** Options every control API command takes. */
export interface ConnectionFlags {
  token?: string;
  server?: string;
  ca?: string;
  demoDir?: string;
}

export interface ControlConnection {
  /** Origin of the gateway, e.g. https://127.0.0.1:6443. */
  server: string;
  token: string;
  /** PEM bundle to trust instead of the system's CAs. */
  ca?: string;
}

/** One server-sent event (WHATWG HTML §9.2.6). */
export interface ServerSentEvent {
  event: string;
  data: string;
}

export interface ControlClient {
  readonly server: string;
  get<T>(path: string, query?: Record<string, string | undefined>): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  /** GET a streamed answer (JSON Lines) and copy its body to `out` as it arrives. */
  download(path: string, query: Record<string, string | undefined>, out: NodeJS.WritableStream): Promise<void>;
  /** Read an event stream until the server ends it (resolves) or `signal` aborts it (resolves). */
  stream(path: string, onEvent: (e: ServerSentEvent) => void, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** Add --token, --server, --ca and --demo-dir to a command. */
export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .option('--token <jwt>', 'your access token (default: $SLUICE_TOKEN)')
    .option('--server <url>', "the gateway's URL (default: $SLUICE_SERVER, else the running demo's gateway)")
    .option('--ca <file>', "PEM CA bundle to trust (default: $SLUICE_CA, else the demo's CA when talking to the demo)")
    .option('--demo-dir <dir>', 'demo folder to find the demo gateway in (default: demo.dir, .sluice/demo)');
}

interface DemoGateway {
  url: string;
  caFile: string;
}

/** The running demo's gateway, if its state file says where it is. */
async function demoGateway(demoDir: string | undefined): Promise<DemoGateway | undefined> {
  const dir = resolve(demoDir ?? (await loadConfig()).demo.dir);
  const { readDemoState } = await import('../../testing/demo/demo-state.ts');
  try {
    return (await readDemoState(dir)).gateway;
  } catch {
    return undefined;
  }
}

function originOf(url: string, what: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SluiceError('CONTROL_API_UNAVAILABLE', `${what} ${JSON.stringify(url)} is not a URL (expected https://HOST:PORT)`);
  }
  if (u.protocol !== 'https:') throw new SluiceError('CONTROL_API_UNAVAILABLE', `${what} ${url}: the control API is served over https only`);
  return u.origin;
}

/** Where and as whom to talk to the control API, from flags, environment and the demo. */
export async function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Promise<ControlConnection> {
  const token = (flags.token ?? env.SLUICE_TOKEN ?? '').trim();
  if (!token)
    throw new SluiceError(
      'AUTHN_MISSING',
      'no access token: pass --token <jwt> or set SLUICE_TOKEN (for the demo: export SLUICE_TOKEN=$(bin/sluice demo token alice))',
    );
  const explicit = flags.server ?? env.SLUICE_SERVER;
  const caFlag = flags.ca ?? env.SLUICE_CA;
  let server: string;
  let caFile = caFlag;
  if (explicit) {
    server = originOf(explicit, '--server');
    if (!caFile) {
      const demo = await demoGateway(flags.demoDir);
      if (demo && originOf(demo.url, 'the demo gateway') === server) caFile = demo.caFile;
    }
  } else {
    const demo = await demoGateway(flags.demoDir);
    if (!demo)
      throw new SluiceError('CONTROL_API_UNAVAILABLE', 'no gateway to talk to: pass --server <url> or set SLUICE_SERVER (or start the demo: bin/sluice demo)');
    server = originOf(demo.url, 'the demo gateway');
    caFile ??= demo.caFile;
  }
  let ca: string | undefined;
  if (caFile) {
    try {
      ca = await readFile(caFile, 'utf8');
    } catch (e) {
      throw new SluiceError('CONTROL_API_UNAVAILABLE', `cannot read the CA bundle ${caFile}: ${(e as Error).message}`);
    }
  }
  return { server, token, ...(ca ? { ca } : {}) };
}

/** Why a connection failed, for people. */
function describeFailure(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code ?? e.code;
  const message = e.cause?.message ?? e.message ?? String(err);
  if (code === 'ECONNREFUSED') return 'connection refused (is the gateway running?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) return `the server's certificate is not trusted (${code}); pass --ca <file>`;
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') return 'timed out';
  return code ? `${message} (${code})` : message;
}

function unavailable(server: string, err: unknown): SluiceError {
  return new SluiceError('CONTROL_API_UNAVAILABLE', `cannot reach the control API at ${server}: ${describeFailure(err)}`);
}

function isErrorJson(v: unknown): v is ErrorJson {
  const e = (v as ErrorJson | null)?.error;
  return typeof e === 'object' && e !== null && typeof e.code === 'string' && typeof e.message === 'string';
}

/** An error answer as a SluiceError with the API's code (or CONTROL_API_UNAVAILABLE for something else answering). */
async function apiError(server: string, status: number, body: Readable & { text(): Promise<string> }): Promise<SluiceError> {
  const text = await body.text().catch(() => '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (isErrorJson(parsed)) {
    const { code, message } = parsed.error;
    if (code in ERROR_CODES) return new SluiceError(code as ErrorCode, message);
    return new SluiceError('CONTROL_API_UNAVAILABLE', `the control API at ${server} failed: ${message} (${code}, HTTP ${status})`);
  }
  return new SluiceError('CONTROL_API_UNAVAILABLE', `unexpected answer from ${server}: HTTP ${status} (is it a Sluice gateway with the control API?)`);
}

/**
 * Split a text/event-stream into events (WHATWG HTML §9.2.6 "Interpreting an event stream"):
 * lines end with CRLF, LF or CR; `:` starts a comment; `field: value` (one space after the
 * colon dropped); `data` lines join with LF; a blank line dispatches an event with data.
 */
async function readEvents(body: Readable, onEvent: (e: ServerSentEvent) => void): Promise<void> {
  let event = '';
  let data: string[] = [];
  const lines = createInterface({ input: body, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line === '') {
      if (data.length > 0) onEvent({ event: event || 'message', data: data.join('\n') });
      event = '';
      data = [];
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
}

export function createControlClient(conn: ControlConnection): ControlClient {
  const agent = new Agent({
    connect: { ...(conn.ca ? { ca: conn.ca } : {}), timeout: 10_000 },
    headersTimeout: 30_000,
    // Event streams carry a ping every 15 s: a minute of silence is a dead connection.
    bodyTimeout: 60_000,
  });
  const url = (path: string, query: Record<string, string | undefined> = {}): URL => {
    const u = new URL(`${PREFIX}${path}`, conn.server);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, v);
    return u;
  };
  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({ authorization: `Bearer ${conn.token}`, ...extra });

  async function call<T>(method: 'GET' | 'POST', path: string, query?: Record<string, string | undefined>, body?: unknown): Promise<T> {
    let res;
    try {
      res = await request(url(path, query), {
        method,
        dispatcher: agent,
        headers: headers(body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' }),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw unavailable(conn.server, err);
    }
    if (res.statusCode >= 400) throw await apiError(conn.server, res.statusCode, res.body);
    try {
      return (await res.body.json()) as T;
    } catch {
      throw new SluiceError('CONTROL_API_UNAVAILABLE', `unexpected answer from ${conn.server}: HTTP ${res.statusCode} without JSON`);
    }
  }

  return {
    server: conn.server,
    get: (path, query) => call('GET', path, query),
    post: (path, body) => call('POST', path, undefined, body),
    async download(path, query, out) {
      let res;
      try {
        res = await request(url(path, query), { method: 'GET', dispatcher: agent, headers: headers({ accept: 'application/x-ndjson' }) });
      } catch (err) {
        throw unavailable(conn.server, err);
      }
      if (res.statusCode >= 400) throw await apiError(conn.server, res.statusCode, res.body);
      try {
        await pipeline(res.body, out, { end: false });
      } catch (err) {
        throw unavailable(conn.server, err);
      }
    },
    async stream(path, onEvent, signal) {
      let res;
      try {
        res = await request(url(path), { method: 'GET', dispatcher: agent, signal, headers: headers({ accept: 'text/event-stream' }) });
      } catch (err) {
        if (signal.aborted) return;
        throw unavailable(conn.server, err);
      }
      if (res.statusCode >= 400) throw await apiError(conn.server, res.statusCode, res.body);
      if (!String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
        res.body.destroy();
        throw new SluiceError('CONTROL_API_UNAVAILABLE', `unexpected answer from ${conn.server}: not an event stream`);
      }
      try {
        await readEvents(res.body, onEvent);
      } catch (err) {
        if (signal.aborted) return;
        throw unavailable(conn.server, err);
      }
    },
    close: () => agent.close(),
  };
}

/** Run `fn` with a client for the command's connection flags, closing it afterwards. */
export async function withControlClient<T>(flags: ConnectionFlags, fn: (client: ControlClient) => Promise<T>): Promise<T> {
  const client = createControlClient(await resolveConnection(flags));
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
