/**
 * Helpers for the SECURITY.md acceptance tests (test/e2e/security-*.test.ts): one gateway world
 * per file, requests through Node's HTTPS client (which sends the path exactly as given, no
 * normalization), raw bytes over TLS for what no well-behaved client can express, and look-ups
 * in the audit store and the emulator's request record.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import type { AuditRecord } from '../../src/audit/types.ts';
import type { RecordedRequest } from '../../testing/kube-emulator/types.ts';
import { DEMO_CONNECTION, DEMO_POLICY_DIR, startGatewayWorld, type GatewayWorld } from '../../testing/harness/gateway-world.ts';
import { writeKubeconfig } from '../../testing/harness/kubeconfig.ts';

/** Anything that looks like a JWT (three base64url parts starting with a JSON header). */
export const JWT_PATTERN = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/;

export interface SecurityWorld {
  world: GatewayWorld;
  /** Tokens fetched once per user (the login flow is slow). */
  token(user: string): Promise<string>;
  /** A kubeconfig for the user pointing at the gateway (written once per user). */
  kubeconfig(user: string): Promise<string>;
  /** SHA-256 (hex) of the gateway's service-account token, as the emulator records it. */
  gatewayTokenSha256: string;
  stop(): Promise<void>;
}

export interface SecurityWorldOptions {
  /** A policy file (YAML text) loaded after the demo policy. */
  extraPolicy?: string;
}

export async function startSecurityWorld(name: string, opts: SecurityWorldOptions = {}): Promise<SecurityWorld> {
  const parent = await mkdtemp(join(tmpdir(), `sluice-${name}-`));
  const policyPaths = [DEMO_POLICY_DIR];
  if (opts.extraPolicy) {
    const file = join(parent, 'extra-policy.yaml');
    await writeFile(file, opts.extraPolicy);
    policyPaths.push(file);
  }
  const world = await startGatewayWorld({ dir: join(parent, 'world'), policyPaths });
  const tokens = new Map<string, Promise<string>>();
  const kubeconfigs = new Map<string, Promise<string>>();
  const saToken = (await readFile(join(world.dir, 'gateway-sa.token'), 'utf8')).trim();
  const token = (user: string): Promise<string> => {
    let t = tokens.get(user);
    if (!t) {
      t = world.tokenFor(user);
      tokens.set(user, t);
    }
    return t;
  };
  return {
    world,
    token,
    kubeconfig(user) {
      let k = kubeconfigs.get(user);
      if (!k) {
        k = token(user).then((t) =>
          writeKubeconfig({ path: join(world.dir, `kubeconfig-${user}`), server: world.gateway.clusterUrl(DEMO_CONNECTION), caCert: world.ca.cert, user, token: t }),
        );
        kubeconfigs.set(user, k);
      }
      return k;
    },
    gatewayTokenSha256: sha256(saToken),
    async stop() {
      await world.stop();
      await rm(parent, { recursive: true, force: true });
    },
  };
}

/** The (cached) tokens of these users. */
export async function allTokens(sw: SecurityWorld, users: readonly string[]): Promise<string[]> {
  return Promise.all(users.map((u) => sw.token(u)));
}

export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON, or undefined. */
  json: Record<string, unknown> | undefined;
  /** Sluice's request id (x-sluice-request-id), when the gateway set it. */
  requestId: string | undefined;
}

export interface RequestOptions {
  method?: string;
  /** Path below the gateway root, sent verbatim (e.g. /clusters/demo/api/v1/...). */
  path: string;
  /** Bearer token; omitted → no Authorization header. */
  token?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  timeoutMs?: number;
}

/** One request through Node's HTTPS client (new connection each time; the path is not normalized). */
export function request(world: GatewayWorld, opts: RequestOptions): Promise<HttpAnswer> {
  const url = new URL(world.gateway.url);
  const headers: Record<string, string | string[]> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined && headers['content-length'] === undefined && headers['transfer-encoding'] === undefined)
    headers['content-length'] = String(Buffer.byteLength(opts.body));
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        hostname: url.hostname,
        port: url.port,
        method: opts.method ?? 'GET',
        path: opts.path,
        headers,
        ca: world.ca.cert,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          const body = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> | undefined;
          try {
            json = JSON.parse(body) as Record<string, unknown>;
          } catch {
            json = undefined;
          }
          const id = res.headers['x-sluice-request-id'];
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json, requestId: typeof id === 'string' ? id : undefined });
        });
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`request ${opts.method ?? 'GET'} ${opts.path} timed out`)), opts.timeoutMs ?? 15_000);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(opts.body);
  });
}

export interface RawExchange {
  /** Everything the gateway sent, as latin1 text. */
  text: string;
  /** True when the gateway ended or closed the connection within the time limit. */
  closed: boolean;
}

export interface RawOptions {
  /** Written right after the TLS handshake. */
  bytes: string | Buffer;
  /** Written once the first response bytes arrived (e.g. data after a refused upgrade). */
  after?: string | Buffer;
  /** How long to wait for the connection to end (default 5 s). */
  timeoutMs?: number;
}

/** Write raw bytes to the gateway over TLS and collect the answer until the connection ends or the time limit. */
export function rawExchange(world: GatewayWorld, opts: RawOptions): Promise<RawExchange> {
  const url = new URL(world.gateway.url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: url.hostname, port: Number(url.port), ca: world.ca.cert, servername: 'localhost' });
    const chunks: Buffer[] = [];
    let settled = false;
    let wroteAfter = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const timer = setTimeout(() => finish(false), opts.timeoutMs ?? 5_000);
    socket.on('secureConnect', () => socket.write(opts.bytes));
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (opts.after !== undefined && !wroteAfter) {
        wroteAfter = true;
        // The server may already have closed: a failed write is the expected outcome then.
        setTimeout(() => {
          if (!socket.destroyed && socket.writable) socket.write(opts.after!, () => undefined);
        }, 100);
      }
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') finish(true);
      else if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(e);
      }
    });
  });
}

/** Status code of every HTTP response in a raw exchange, in order (a response may follow a body without a line break). */
export function statusLines(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) [^\r\n]*\r\n/g)].map((m) => Number(m[1]));
}

/** The JSON body of the first response of a raw exchange (Content-Length framed), or undefined. */
export function firstJsonBody(text: string): Record<string, unknown> | undefined {
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) return undefined;
  const head = text.slice(0, split);
  const rest = text.slice(split + 4);
  const len = /\r\ncontent-length: *(\d+)/i.exec(head);
  const body = len ? rest.slice(0, Number(len[1])) : rest;
  try {
    return JSON.parse(body) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** An HTTP/1.1 request as text (Host set), for rawExchange. */
export function rawRequest(method: string, path: string, headers: [string, string][], body = ''): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: localhost', ...headers.map(([k, v]) => `${k}: ${v}`)];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** Assert a Kubernetes Status body. */
export function assertStatus(json: Record<string, unknown> | undefined, code: number, reason: string, what = 'response'): void {
  assert.ok(json, `${what}: the body is not JSON`);
  assert.equal(json.kind, 'Status', `${what}: kind`);
  assert.equal(json.apiVersion, 'v1', `${what}: apiVersion`);
  assert.equal(json.status, 'Failure', `${what}: status`);
  assert.equal(json.code, code, `${what}: code (message: ${String(json.message)})`);
  assert.equal(json.reason, reason, `${what}: reason (message: ${String(json.message)})`);
}

/** The audit record of a request id, waiting (bounded) until its outcome is stored. */
export async function auditRecord(world: GatewayWorld, id: string | undefined, timeoutMs = 5_000): Promise<AuditRecord> {
  assert.ok(id, 'the response carries no x-sluice-request-id');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await world.store.get(id);
    if (r?.outcome) return r;
    if (Date.now() > deadline) assert.fail(r ? `audit record ${id} has no outcome after ${timeoutMs} ms` : `no audit record ${id}`);
    await sleep(25);
  }
}

/** Audit records (oldest first) since a time, matching a predicate; waits (bounded) until `count` have an outcome. */
export async function auditSince(
  world: GatewayWorld,
  since: Date,
  match: (r: AuditRecord) => boolean = () => true,
  opts: { count?: number; timeoutMs?: number } = {},
): Promise<AuditRecord[]> {
  const deadline = Date.now() + (opts.timeoutMs ?? 5_000);
  for (;;) {
    const page = await world.store.list({ since, limit: 1000 });
    const found = page.records.filter(match).reverse();
    const completed = found.filter((r) => r.outcome);
    if (completed.length >= (opts.count ?? 1) || Date.now() > deadline) return found;
    await sleep(25);
  }
}

/** Every audit record in the store (oldest first). */
export async function allAuditRecords(world: GatewayWorld): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await world.store.list({ limit: 1000, ...(before ? { before } : {}) });
    out.push(...page.records);
    if (!page.next) return out.reverse();
    before = page.next;
  }
}

/** Emulator requests recorded after a mark (`world.emulator.requests.length` taken before). */
export function emulatorSince(world: GatewayWorld, mark: number): RecordedRequest[] {
  return world.emulator.requests.filter((r) => r.seq > mark);
}

/** The current emulator mark (the last recorded sequence number). */
export function emulatorMark(world: GatewayWorld): number {
  const rs = world.emulator.requests;
  return rs.length ? rs[rs.length - 1]!.seq : 0;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A header of a recorded request as a list. */
export function headerValues(r: RecordedRequest, name: string): string[] {
  const v = r.headers[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/**
 * Requests a review rule holds wait for an approver: this plays carol (approvers) and denies the
 * next approval `user` opens after now, with `reason`. Resolves with the approval's id.
 */
export async function denyNextHeld(world: GatewayWorld, user: string, reason = 'denied by the test'): Promise<string> {
  const since = new Date(Date.now() - 1000);
  const carol = { issuer: world.idp.issuer, subject: 'carol', username: 'carol', groups: ['approvers'], kind: 'person' as const };
  for (let i = 0; i < 1200; i++) {
    const [a] = await world.approvalStore.list({ states: ['pending'], requester: user, since });
    if (a) {
      await world.gateway.approvals!.deny(a.id, carol, reason);
      return a.id;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no approval of ${user} to deny`);
}
