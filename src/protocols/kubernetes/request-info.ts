/**
 * RequestInfo: what a request is about, parsed from the method and the URL alone, exactly as the
 * API server's RequestInfoFactory does it (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go,
 * v1.31+ including the AuthorizeWithSelectors fields). Authorization, the REST handlers and the
 * request record all read this one structure.
 *
 *   /apis/{group}/{version}/namespaces/{ns}/{resource}/{name}/{subresource}
 *   /api/{version}/{resource}/{name}
 *   /api/{version}/watch/namespaces/{ns}/{resource}        (deprecated verb-via-path form)
 *   /api/{version}/proxy/namespaces/{ns}/{resource}/{name}/… (no subresource for proxy)
 *   anything else (/api, /apis/{group}, /version, /healthz …) is a non-resource request whose
 *   verb is the lower-cased HTTP method.
 *
 * Canonical paths: Go's net/http percent-decodes the path (so %2F becomes a separator) and the
 * API server does not clean it; a `..` name then fails name validation (400 "Name parameter
 * invalid"), an empty segment matches no route (404). Sluice is stricter and uniform — the
 * gateway because it must decide on exactly what the server will act on, the emulator because it
 * shares this code: `canonicalPathError` answers 400 for dot segments, empty segments, encoded
 * slashes or backslashes and malformed escapes before anything else looks at the path.
 */
import { StatusError } from './status.ts';

export interface RequestInfo {
  /** True for /api/{version}/… and /apis/{group}/{version}/… paths. */
  isResourceRequest: boolean;
  /** The decoded URL path. */
  path: string;
  /** Kubernetes verb (get, list, watch, create, update, patch, delete, deletecollection, proxy) or the lower-cased HTTP method for non-resource requests; "" for unknown methods on resources. */
  verb: string;
  /** "api" or "apis" (empty for non-resource requests). */
  apiPrefix: string;
  /** "" for the core group. */
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  /** From the path, or for list/watch from `fieldSelector=metadata.name=x`. */
  name: string;
  /** Path parts starting at {resource}: resource/name/subresource/… */
  parts: string[];
  /** Raw `fieldSelector` for list, watch and deletecollection (not for verb-via-path). */
  fieldSelector: string;
  /** Raw `labelSelector` for list, watch and deletecollection (not for verb-via-path). */
  labelSelector: string;
  /** True when the verb came from a /watch/ or /proxy/ path prefix. */
  verbViaPathPrefix: boolean;
  /** The parsed query string. */
  query: URLSearchParams;
}

const API_PREFIXES = new Set(['api', 'apis']);
const GROUPLESS_API_PREFIXES = new Set(['api']);
const SPECIAL_VERBS = new Set(['proxy', 'watch']);
const SPECIAL_VERBS_NO_SUBRESOURCES = new Set(['proxy']);
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
const VERBS_WITH_SELECTORS = new Set(['list', 'watch', 'deletecollection']);

function splitTarget(url: string): { rawPath: string; rawQuery: string } {
  const q = url.indexOf('?');
  return q < 0 ? { rawPath: url, rawQuery: '' } : { rawPath: url.slice(0, q), rawQuery: url.slice(q + 1) };
}

/** Percent-decode a path the way Go's url.PathUnescape does ('+' stays '+'). Throws on bad escapes. */
function unescapePath(raw: string): string {
  if (!raw.includes('%')) return raw;
  if (/%(?![0-9a-fA-F]{2})/.test(raw)) throw new Error(`invalid URL escape in ${JSON.stringify(raw)}`);
  return decodeURIComponent(raw);
}

function badPath(path: string, why: string): StatusError {
  return StatusError.of(400, 'BadRequest', `invalid request path ${JSON.stringify(path)}: ${why}`);
}

/**
 * The emulator's canonical-path rule (see header): a 400 Status for paths a well-behaved client
 * never sends, undefined when the path is fine.
 */
export function canonicalPathError(url: string): StatusError | undefined {
  const { rawPath } = splitTarget(url);
  if (!rawPath.startsWith('/')) return badPath(rawPath, 'must start with "/"');
  if (/%(?![0-9a-fA-F]{2})/.test(rawPath)) return badPath(rawPath, 'malformed percent-encoding');
  if (/%2f|%5c/i.test(rawPath)) return badPath(rawPath, 'encoded "/" or "\\" is not allowed');
  if (rawPath.includes('\\')) return badPath(rawPath, '"\\" is not allowed');
  if (rawPath !== '/' && rawPath.includes('//')) return badPath(rawPath, 'empty path segment');
  let decoded: string;
  try {
    decoded = unescapePath(rawPath);
  } catch {
    return badPath(rawPath, 'malformed percent-encoding');
  }
  for (const seg of decoded.split('/')) {
    if (seg === '.' || seg === '..') return badPath(rawPath, `path segment ${JSON.stringify(seg)} is not allowed`);
  }
  return undefined;
}

/** path.IsValidPathSegmentName (k8s.io/apimachinery/pkg/api/validation/path). */
export function isValidPathSegmentName(name: string): boolean {
  return name !== '.' && name !== '..' && !name.includes('/') && !name.includes('%');
}

interface FieldRequirement {
  field: string;
  operator: '=' | '==' | '!=';
  value: string;
}

/**
 * fields.ParseSelector (k8s.io/apimachinery/pkg/fields/selector.go): comma-separated
 * `field=value`, `field==value`, `field!=value`; `\` escapes `\`, `,` and `=` in values.
 * Throws on a malformed selector.
 */
export function parseFieldSelector(selector: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  if (selector.trim() === '') return out;
  // Split on unescaped commas.
  const terms: string[] = [];
  let cur = '';
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '\\' && i + 1 < selector.length) {
      cur += c + selector[i + 1];
      i++;
    } else if (c === ',') {
      terms.push(cur);
      cur = '';
    } else cur += c;
  }
  terms.push(cur);
  for (const term of terms) {
    if (term === '') continue;
    const m = /^([^=!]*?)(!=|==|=)(.*)$/s.exec(term);
    if (!m) throw new Error(`invalid selector: '${selector}'; can't understand '${term}'`);
    const field = (m[1] ?? '').trim();
    const rawValue = m[3] ?? '';
    let value = '';
    for (let i = 0; i < rawValue.length; i++) {
      const c = rawValue[i];
      if (c === '\\') {
        const n = rawValue[i + 1];
        if (n === '\\' || n === ',' || n === '=') {
          value += n;
          i++;
          continue;
        }
        throw new Error(`invalid field selector: invalid escape sequence in '${rawValue}'`);
      }
      if (c === '=' || c === ',') throw new Error(`invalid field selector: unescaped '${c}' in value '${rawValue}'`);
      value += c;
    }
    if (field === '') throw new Error(`invalid selector: '${selector}'; can't understand '${term}'`);
    out.push({ field, operator: m[2] as FieldRequirement['operator'], value });
  }
  return out;
}

/** Selector.RequiresExactMatch: the value of an `=`/`==` requirement on field, if any. */
function requiresExactMatch(reqs: FieldRequirement[], field: string): string | undefined {
  for (const r of reqs) if (r.field === field && (r.operator === '=' || r.operator === '==')) return r.value;
  return undefined;
}

/** Convert_Slice_string_To_bool: anything but "false"/"0" (case-insensitive) is true. */
function queryBool(values: string[]): boolean {
  if (values.length === 0) return false;
  const v = (values[0] ?? '').toLowerCase();
  return !(v === 'false' || v === '0');
}

/**
 * The parts of ListOptions decoding that can fail (ParameterCodec.DecodeParameters): integer
 * parameters and the field selector. On failure the real server still lists but sets no name.
 */
function listOptionsDecodable(query: URLSearchParams): FieldRequirement[] | undefined {
  for (const p of ['limit', 'timeoutSeconds']) {
    const v = query.get(p);
    if (v !== null && v !== '' && !/^-?\d+$/.test(v)) return undefined;
  }
  try {
    return parseFieldSelector(query.get('fieldSelector') ?? '');
  } catch {
    return undefined;
  }
}

/**
 * NewRequestInfo. Throws a StatusError for a malformed escape (Go's server answers 400 before any
 * handler) and for `/api/v1/watch` without a resource (the real server's 500 "failed to create
 * RequestInfo").
 */
export function parseRequestInfo(method: string, url: string): RequestInfo {
  const { rawPath, rawQuery } = splitTarget(url);
  let path: string;
  try {
    path = unescapePath(rawPath);
  } catch {
    throw StatusError.of(400, 'BadRequest', `invalid URL escape in path ${JSON.stringify(rawPath)}`);
  }
  const query = new URLSearchParams(rawQuery);
  const info: RequestInfo = {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    parts: [],
    fieldSelector: '',
    labelSelector: '',
    verbViaPathPrefix: false,
    query,
  };

  const trimmed = path.replace(/^\/+|\/+$/g, '');
  let parts = trimmed === '' ? [] : trimmed.split('/');
  if (parts.length < 3) return info;
  if (!API_PREFIXES.has(parts[0] ?? '')) return info;
  const apiPrefix = parts[0] ?? '';
  info.apiPrefix = apiPrefix;
  parts = parts.slice(1);

  if (!GROUPLESS_API_PREFIXES.has(apiPrefix)) {
    // One part (the prefix) is consumed: "do we have four parts?"
    if (parts.length < 3) return info;
    info.apiGroup = parts[0] ?? '';
    parts = parts.slice(1);
  }
  info.isResourceRequest = true;
  info.apiVersion = parts[0] ?? '';
  parts = parts.slice(1);

  if (SPECIAL_VERBS.has(parts[0] ?? '')) {
    if (parts.length < 2) {
      const cause = `failed to create RequestInfo: unable to determine kind and namespace from url, ${url}`;
      throw StatusError.of(500, 'InternalError', `Internal error occurred: ${cause}`, { causes: [{ message: cause }] });
    }
    info.verb = parts[0] ?? '';
    parts = parts.slice(1);
    info.verbViaPathPrefix = true;
  } else {
    switch (method.toUpperCase()) {
      case 'POST':
        info.verb = 'create';
        break;
      case 'GET':
      case 'HEAD':
        info.verb = 'get';
        break;
      case 'PUT':
        info.verb = 'update';
        break;
      case 'PATCH':
        info.verb = 'patch';
        break;
      case 'DELETE':
        info.verb = 'delete';
        break;
      default:
        info.verb = '';
    }
  }

  // /namespaces/{namespace}/{resource}/…: parts become relative to the resource.
  if (parts[0] === 'namespaces') {
    if (parts.length > 1) {
      info.namespace = parts[1] ?? '';
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2] ?? '')) parts = parts.slice(2);
    }
  } else {
    info.namespace = '';
  }
  info.parts = parts;

  if (parts.length >= 3 && !SPECIAL_VERBS_NO_SUBRESOURCES.has(info.verb)) info.subresource = parts[2] ?? '';
  if (parts.length >= 2) info.name = parts[1] ?? '';
  if (parts.length >= 1) info.resource = parts[0] ?? '';

  // No name and "get": list or watch; a metadata.name field selector names the object.
  if (info.name === '' && info.verb === 'get') {
    const reqs = listOptionsDecodable(query);
    info.verb = queryBool(query.getAll('watch')) ? 'watch' : 'list';
    if (reqs) {
      const name = requiresExactMatch(reqs, 'metadata.name');
      if (name !== undefined && isValidPathSegmentName(name)) info.name = name;
    }
  }
  if (info.name === '' && info.verb === 'delete') info.verb = 'deletecollection';

  if (!info.verbViaPathPrefix && VERBS_WITH_SELECTORS.has(info.verb)) {
    const fs = query.getAll('fieldSelector');
    const ls = query.getAll('labelSelector');
    if (fs.length > 0) info.fieldSelector = fs[0] ?? '';
    if (ls.length > 0) info.labelSelector = ls[0] ?? '';
  }
  return info;
}
