/**
 * CEL conditions (the Common Expression Language, as in Kubernetes ValidatingAdmissionPolicy),
 * compiled once when a policy loads and evaluated per request with three variables:
 *   request   — the request attributes (verb, resource, namespace, name, …), strings never absent
 *   object    — the parsed request body of writes, or null
 *   principal — issuer, subject, username, groups, kind
 * JSON integers become CEL ints (so `object.spec.replicas + 1` works), maps become CEL maps.
 * A condition must yield a bool; anything else, or a runtime error, is an evaluation error that
 * the caller handles fail-closed.
 */
import { Environment } from '@marcbachmann/cel-js';
import type { Principal } from '../core/principal.ts';
import type { RequestAttributes } from '../core/request.ts';

const env = new Environment({ limits: { maxAstNodes: 2000, maxDepth: 50 } })
  .registerVariable('request', 'map')
  .registerVariable('object', 'dyn')
  .registerVariable('principal', 'map');

/** Variables a condition is evaluated with (build once per request with `conditionInput`). */
export interface ConditionInput {
  request: Record<string, unknown>;
  principal: Record<string, unknown>;
  /** Converted lazily: only conditions that read `object` pay for it. */
  object: () => unknown;
}

export interface CompiledCondition {
  readonly source: string;
  /** True/false, or throws an Error whose message says why the condition could not be evaluated. */
  evaluate(input: ConditionInput): boolean;
}

const MAX_DEPTH = 64;

function toCel(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new Error(`request body nested deeper than ${MAX_DEPTH} levels`);
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isSafeInteger(value) ? BigInt(value) : value;
    case 'bigint':
      return value;
    case 'object':
      if (Array.isArray(value)) return value.map((v) => toCel(v, depth + 1));
      // A Map, not an object: keys such as __proto__ or constructor stay plain data.
      return new Map(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toCel(v, depth + 1)]));
    default:
      return String(value);
  }
}

/** The CEL variables for one request. */
export function conditionInput(principal: Principal, request: RequestAttributes): ConditionInput {
  let converted: { value: unknown } | undefined;
  return {
    request: {
      connection: request.connection,
      verb: request.verb,
      apiGroup: request.apiGroup,
      apiVersion: request.apiVersion,
      resource: request.resource,
      subresource: request.subresource,
      namespace: request.namespace,
      name: request.name,
      isResourceRequest: request.isResourceRequest,
      path: request.path,
    },
    principal: {
      issuer: principal.issuer,
      subject: principal.subject,
      username: principal.username,
      groups: [...principal.groups],
      kind: principal.kind ?? '',
    },
    object: () => {
      if (request.objectError !== undefined) throw new Error(`the request body could not be read: ${request.objectError}`);
      return (converted ??= { value: toCel(request.object, 0) }).value;
    },
  };
}

/** Compile a condition; throws an Error with the parser's or type checker's message. */
export function compileCondition(source: string): CompiledCondition {
  const parsed = env.parse(source);
  const checked = parsed.check();
  if (!checked.valid) throw new Error(firstLine(checked.error?.message ?? 'does not type-check'));
  if (checked.type !== 'bool' && checked.type !== 'dyn') throw new Error(`must be a bool expression, not ${checked.type}`);
  const readsObject = /\bobject\b/.test(source);
  return {
    source,
    evaluate(input) {
      let result: unknown;
      try {
        result = parsed({ request: input.request, principal: input.principal, object: readsObject ? input.object() : null });
      } catch (e) {
        throw new Error(firstLine(e instanceof Error ? e.message : String(e)), { cause: e });
      }
      if (typeof result !== 'boolean') throw new Error(`condition yielded ${typeof result}, not a bool`);
      return result;
    },
  };
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
