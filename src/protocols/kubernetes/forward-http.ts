/**
 * Stage 7 (plain requests) — forward upstream and stream the answer back. Nothing is buffered:
 * each chunk of a watch, a followed log or a large list goes to the client as it arrives. The
 * request's audit record is completed (status, bytes, duration) before the last byte is
 * released to the client, so an answer the trail did not take is never completed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { upstreamRequest } from './upstream-request.ts';
import { responseHeaders } from './response-headers.ts';
import type { KubeContext } from './pipeline/context.ts';
import { Rejection } from './pipeline/rejection.ts';

export function elapsedMs(ctx: KubeContext): number {
  return Number(process.hrtime.bigint() - ctx.started) / 1e6;
}

export async function forwardHttp(ctx: KubeContext, res: ServerResponse): Promise<void> {
  const up = ctx.upstream!;
  const upstreamReq = await upstreamRequest(ctx);

  const answered = new Promise<IncomingMessage>((resolve, reject) => {
    upstreamReq.on('response', resolve);
    upstreamReq.on('error', reject);
  });
  // The client going away ends the upstream exchange too (watch, logs -f); after a complete
  // exchange there is nothing to end (destroying would build an error for nothing).
  res.on('close', () => {
    if (!res.writableFinished) upstreamReq.destroy();
  });

  if (ctx.body) upstreamReq.end(ctx.body);
  else {
    let n = 0;
    ctx.req.on('data', (c: Buffer) => (n += c.length));
    ctx.req.on('end', () => (ctx.bytesIn = n));
    ctx.req.pipe(upstreamReq);
  }

  let upstreamRes;
  try {
    upstreamRes = await answered;
  } catch (e) {
    throw new Rejection('UPSTREAM_UNAVAILABLE', 502, 'InternalError', `sluice: the API server of connection ${up.name} is unavailable`, {
      cause: (e as Error).message,
    });
  }

  // Nothing of the response is released before the decision record is durable (reads were
  // forwarded while it committed; see record-decision.ts).
  if (ctx.auditReady) {
    try {
      await ctx.auditReady;
    } catch (e) {
      upstreamRes.destroy();
      throw e;
    }
  }

  const status = upstreamRes.statusCode ?? 502;
  res.writeHead(status, responseHeaders(upstreamRes.rawHeaders).flat());
  res.flushHeaders();
  let bytesOut = 0;
  let completed = false;
  const complete = async (error?: { code: string; message: string }): Promise<void> => {
    if (completed) return;
    completed = true;
    await ctx.audit!.complete({ status, bytesIn: ctx.bytesIn, bytesOut, durationMs: elapsedMs(ctx), ...(error ? { error } : {}) });
  };
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytesOut += chunk.length;
      cb(null, chunk);
    },
    flush(cb) {
      complete().then(() => cb(), (e: unknown) => cb(e as Error));
    },
  });
  try {
    await pipeline(upstreamRes, count, res);
  } catch (e) {
    // Client went away mid-stream, upstream broke off, or the audit trail failed at the end.
    await complete({ code: 'STREAM_ABORTED', message: (e as Error).message }).catch((err: unknown) =>
      ctx.deps.log.error({ id: ctx.id, err: (err as Error).message }, 'audit completion failed'),
    );
    res.destroy();
  }
}
