/**
 * Stage 3 — read the body of writes (POST, PUT, PATCH, DELETE with options), bounded by
 * `server.maxRequestBodyBytes` (413 beyond, like the API server's 3 MiB), so that policy
 * conditions (and later approvals) see exactly the bytes that will be forwarded. JSON and YAML
 * bodies are parsed with a nesting limit (400 for nested bombs); protobuf bodies are forwarded
 * as they are and give conditions no object. Responses are never buffered.
 */
import { parse as parseYaml } from 'yaml';
import type { KubeContext, Stage } from './context.ts';
import { Rejection } from './rejection.ts';

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

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
    const type = (ctx.req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type.endsWith('json')) {
      if (jsonDepth(body) > maxBodyDepth) throw new Rejection('REQUEST_INVALID', 400, 'BadRequest', `request body nests deeper than ${maxBodyDepth} levels`);
      try {
        ctx.object = JSON.parse(body.toString('utf8')) as unknown;
      } catch (e) {
        throw new Rejection('REQUEST_INVALID', 400, 'BadRequest', `request body is not valid JSON: ${(e as Error).message}`);
      }
    } else if (type.endsWith('yaml')) {
      let v: unknown;
      try {
        v = parseYaml(body.toString('utf8'), { maxAliasCount: 100, uniqueKeys: true });
      } catch (e) {
        throw new Rejection('REQUEST_INVALID', 400, 'BadRequest', `request body is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
      }
      if (valueDepth(v, maxBodyDepth) > maxBodyDepth) throw new Rejection('REQUEST_INVALID', 400, 'BadRequest', `request body nests deeper than ${maxBodyDepth} levels`);
      ctx.object = v;
    }
  },
};
