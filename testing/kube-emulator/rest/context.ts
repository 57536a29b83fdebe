/**
 * The per-request context of the REST layer: the request as the server hands it over, the
 * common query options (dryRun, fieldManager, fieldValidation, pretty — k8s.io/apiserver
 * handlers/rest.go and handlers/responsewriters) and JSON response writing with `Warning`
 * headers (k8s.io/apiserver/pkg/warning: `299 - "<text>"`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestInfo } from '../request-info.ts';
import type { ResourceDef } from '../resources.ts';
import { apiVersionOf } from '../resources.ts';
import { StatusError } from '../status.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { KubeObject, UserInfo } from '../types.ts';
import { invalid } from '../store/errors.ts';
import { managerFromUserAgent } from './managed-fields.ts';

export type { RequestInfo } from '../request-info.ts';

export interface RestRequest {
  info: RequestInfo;
  def: ResourceDef;
  user: UserInfo;
  req: IncomingMessage;
  res: ServerResponse;
  body: Buffer | undefined;
  accept: string;
  contentType: string;
}

export interface RestConfig {
  now: () => Date;
  /** Interval of BOOKMARK events on watches that allow them. */
  bookmarkIntervalMs: number;
  /** Watch duration when the client sends no timeoutSeconds. */
  defaultWatchTimeoutMs: number;
}

export interface Ctx extends RestRequest {
  store: ObjectStore;
  config: RestConfig;
  query: URLSearchParams;
  namespace: string | undefined;
  warnings: string[];
}

export function makeCtx(r: RestRequest, store: ObjectStore, config: RestConfig): Ctx {
  const query = r.info.query ?? new URLSearchParams((r.req.url ?? '').split('?')[1] ?? '');
  return { ...r, store, config, query, namespace: r.def.namespaced ? r.info.namespace || undefined : undefined, warnings: [] };
}

export const apiVersion = (c: Ctx): string => apiVersionOf(c.def);

function queryBool(v: string | null): boolean {
  if (v === null) return false;
  return v === '' || v === '1' || v.toLowerCase() === 'true';
}

export function isPretty(c: Ctx): boolean {
  const p = c.query.get('pretty');
  if (p !== null) return p === '' || p === '1' || p.toLowerCase() === 'true';
  const ua = String(c.req.headers['user-agent'] ?? '');
  return ua.startsWith('curl') || ua.startsWith('Wget') || ua.startsWith('Mozilla/');
}

/** dryRun=All (the only value); anything else is 400 like ValidateDryRun. */
export function isDryRun(c: Ctx): boolean {
  const vals = c.query.getAll('dryRun');
  if (vals.length === 0) return false;
  for (const v of vals) {
    if (v !== 'All') {
      throw invalid(c.info.verb === 'delete' ? 'DeleteOptions' : c.info.verb === 'patch' ? 'PatchOptions' : c.info.verb === 'create' ? 'CreateOptions' : 'UpdateOptions', 'meta.k8s.io', '', [
        { type: 'FieldValueNotSupported', field: 'dryRun', message: `Unsupported value: []string{"${v}"}: supported values: "All"` },
      ]);
    }
  }
  return true;
}

export function fieldManager(c: Ctx): string {
  return c.query.get('fieldManager') || managerFromUserAgent(c.req.headers['user-agent']);
}

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function fieldValidation(c: Ctx): FieldValidation {
  const v = c.query.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw StatusError.of(400, 'BadRequest', `fieldValidation parameter unsupported: ${v}`);
}

export function force(c: Ctx): boolean {
  return queryBool(c.query.get('force'));
}

export function boolParam(c: Ctx, name: string): boolean {
  return queryBool(c.query.get(name));
}

export function timestamp(c: Ctx): string {
  return c.config.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function warningHeader(ws: string[]): string[] {
  return ws.map((w) => `299 - ${JSON.stringify(w)}`);
}

export function writeJson(c: Ctx, code: number, obj: unknown): void {
  const body = isPretty(c) ? `${JSON.stringify(obj, null, 2)}\n` : `${JSON.stringify(obj)}\n`;
  const headers: Record<string, string | string[] | number> = {
    'content-type': 'application/json',
    'cache-control': 'no-cache, private',
    'content-length': Buffer.byteLength(body),
  };
  if (c.warnings.length) headers.warning = warningHeader(c.warnings);
  c.res.writeHead(code, headers);
  c.res.end(body);
}

/** Items of a list as the API server encodes them: built-in kinds without TypeMeta, custom resources with it. */
export function listItem(c: Ctx, o: KubeObject): KubeObject {
  if (c.def.protobuf) {
    const { apiVersion: _a, kind: _k, ...rest } = o;
    return rest as KubeObject;
  }
  return o;
}

export function warningHeaderValues(c: Ctx): string[] {
  return warningHeader(c.warnings);
}
