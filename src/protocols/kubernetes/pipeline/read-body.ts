/**
 * Stage 3 — read the body of writes (POST, PUT, PATCH, DELETE with options), bounded by
 * `server.maxRequestBodyBytes` (413 beyond, like the API server's 3 MiB), so that policy
 * conditions (and later approvals) see exactly the bytes that will be forwarded. JSON and YAML
 * bodies are parsed with a nesting limit (400 for nested bombs), protobuf bodies are decoded,
 * a body without Content-Type is JSON (as the API server reads it), and other media types are
 * refused with 415. Responses are never buffered.
 */
import { parse as parseYaml } from 'yaml';
import { PROTOBUF_CONTENT_TYPE, ProtobufDecodeError, decodeProtobufBody } from '../protobuf.ts';
import type { KubeContext, Stage } from './context.ts';
import { Rejection } from './rejection.ts';

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Media types the API server decodes as JSON or YAML (k8s.io/apiserver handlers: create, update, patch). */
const JSON_TYPES = new Set([
  'application/json',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
]);
const YAML_TYPES = new Set(['application/yaml', 'application/apply-patch+yaml']);


/** Deepest nesting of a JSON text, counted without parsing (strings skipped). */
export function jsonDepth(buf: Buffer): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) max = depth;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

function valueDepth(v: unknown, limit: number, d = 0): number {
  if (d > limit || v === null || typeof v !== 'object') return d;
  let max = d + 1;
  for (const child of Object.values(v as Record<string, unknown>)) {
    max = Math.max(max, valueDepth(child, limit, d + 1));
    if (max > limit) break;
  }
  return max;
}

async function readLimited(ctx: KubeContext, limit: number): Promise<Buffer> {
  const declared = Number(ctx.req.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function tooLarge(limit: number): Rejection {
  return new Rejection('REQUEST_TOO_LARGE', 413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
}

export const readBody: Stage = {
  name: 'read-body',
  async run(ctx) {
    if (ctx.upgrade || !WRITE_METHODS.has(ctx.req.method ?? '')) return;
    const { maxRequestBodyBytes, maxBodyDepth } = ctx.deps.limits;
    const body = await readLimited(ctx, maxRequestBodyBytes);
    ctx.body = body;
    ctx.bytesIn = body.length;
    if (body.length === 0) return;
    // The API server reads a body without Content-Type as JSON (the first serializer it
    // supports); so does the gateway, or a condition could be dodged by leaving the header out.
    const type = (ctx.req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() || 'application/json';
    if (type === PROTOBUF_CONTENT_TYPE) {
      try {
        ctx.object = decodeProtobufBody(body);
      } catch (e) {
        // Forwarded as it is (the API server may know more fields than we do), but every policy
        // condition that reads `object` fails to evaluate, so it fails closed.
        ctx.objectError = (e instanceof ProtobufDecodeError ? e.message : 'not a Kubernetes protobuf body').slice(0, 200);
      }
    } else if (JSON_TYPES.has(type)) {
      if (jsonDepth(body) > maxBodyDepth) throw new Rejection('REQUEST_INVALID', 400, 'BadRequest', `request body nests deeper than ${maxBodyDepth} levels`);
      try {
        ctx.object = JSON.parse(body.toString('utf8')) as unknown;
      } catch (e) {
        throw new Rejection('REQUEST_INVALID', 400, 'BadRequest', `request body is not valid JSON: ${(e as Error).message}`);
      }
    } else if (YAML_TYPES.has(type)) {
      let v: unknown;
      try {
        v = parseYaml(body.toString('utf8'), { maxAliasCount: 100, uniqueKeys: true });
      } catch (e) {
        throw new Rejection('REQUEST_INVALID', 400, 'BadRequest', `request body is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
      }
      if (valueDepth(v, maxBodyDepth) > maxBodyDepth) throw new Rejection('REQUEST_INVALID', 400, 'BadRequest', `request body nests deeper than ${maxBodyDepth} levels`);
      ctx.object = v;
    } else {
      // The API server answers 415 for media types it has no serializer for; refusing them here
      // means no body reaches a decision unread.
      throw new Rejection('REQUEST_INVALID', 415, 'UnsupportedMediaType', `the body of type "${type.slice(0, 80)}" is not supported`);
    }
  },
};
