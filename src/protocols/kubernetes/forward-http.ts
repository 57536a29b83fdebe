/**
 * Stage 9 (plain requests) — forward upstream and stream the answer back.
 *
 * Nothing is buffered beyond one chunk, and the audit rules hold for every answer:
 * - no byte is released before the request's record is durable;
 * - the last byte is released only once the record carries the outcome (status, bytes,
 *   duration), so an answer the trail did not take is never complete at the client.
 *
 * Two shapes of answer:
 * - **length-delimited** (`Content-Length`: single objects, most lists): each chunk is sent when
 *   the next one arrives, and the last one after the outcome is committed. An answer that came
 *   back in one piece — the common case — thus costs one commit (record and outcome together,
 *   see recorder.ts) and one write to the client socket (head and body together).
 * - **streams** (chunked or close-delimited: watch, `logs -f`, large chunked lists): the head
 *   goes out at once and every chunk as it arrives — a watch event is never held back waiting
 *   for the next one; the chunked terminator goes out after the outcome is committed.
 *
 * Recording (issue #6): every chunk is recorded as it is sent — the bytes the client received,
 * after masking — and the request body masked like the approver's view of it (held-body.ts).
 * The recorder stores a stream's chunks with `body.segment` events as they go and the rest with
 * the outcome, so the last byte waits for every chunk of the answer to be committed. When policy
 * lifted masking the answer is only counted (`withheld`): the trail never holds secrets in clear.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import type { AuditMasking } from '../../audit/types.ts';
import { upstreamRequest } from './upstream-request.ts';
import { maskedBodyText, maskedValueText } from '../../approval/held-body.ts';
import { KubeMaskError } from '../../masking/kube/index.ts';
import { liftedMasking, maskingFor, responseMasker, type ResponseMasker } from './response-masking.ts';
import { responseHeaders } from './response-headers.ts';
import type { KubeContext } from './pipeline/context.ts';
import { auditUnavailable } from './pipeline/record-decision.ts';
import { Rejection } from './pipeline/rejection.ts';

export function elapsedMs(ctx: KubeContext): number {
  return Number(process.hrtime.bigint() - ctx.started) / 1e6;
}

export async function forwardHttp(ctx: KubeContext, res: ServerResponse): Promise<void> {
  const audit = ctx.audit!;
  const masking = maskingFor(ctx);
  const upstreamReq = await upstreamRequest(ctx, masking ? { maskable: true } : {});

  const answered = new Promise<IncomingMessage>((resolve, reject) => {
    upstreamReq.on('response', resolve);
    upstreamReq.on('error', reject);
  });
  // The client going away ends the upstream exchange too (watch, logs -f); after a complete
  // exchange there is nothing to end (destroying would build an error for nothing).
  res.on('close', () => {
    if (!res.writableFinished) upstreamReq.destroy();
  });

  recordRequestBody(ctx);
  if (ctx.body) upstreamReq.end(ctx.body);
  else {
    let n = 0;
    ctx.req.on('data', (c: Buffer) => (n += c.length));
    ctx.req.on('end', () => (ctx.bytesIn = n));
    ctx.req.pipe(upstreamReq);
  }

  let upstreamRes: IncomingMessage;
  try {
    upstreamRes = await answered;
  } catch (e) {
    throw upstreamUnavailable(ctx, e);
  }

  const status = upstreamRes.statusCode ?? 502;
  let masker: ResponseMasker | null = null;
  if (masking) {
    try {
      masker = responseMasker(ctx, masking, upstreamRes);
    } catch (e) {
      upstreamRes.destroy();
      throw e;
    }
  }
  // A masked body has another length and no content encoding; Node frames it (chunked, or a
  // Content-Length set below when the masked answer is complete before the first byte goes out).
  const head = responseHeaders(upstreamRes.rawHeaders)
    .filter(([k]) => !masker || !/^(content-length|content-encoding)$/i.test(k))
    .flat();
  if (ctx.warning) head.push('Warning', `299 - ${JSON.stringify(ctx.warning)}`);
  const delimited = upstreamRes.headers['content-length'] !== undefined;
  const lifted = liftedMasking(ctx);
  const withhold = lifted !== undefined;
  const maskingNote = (): AuditMasking | undefined => (masker ? masker.counts() : lifted);
  let body: Readable = upstreamRes;
  if (masker) body = pipeline([upstreamRes, ...masker.transforms], () => undefined) as unknown as Readable;
  let bytesOut = 0;
  let released = false;

  /** Before the first byte: the record must be durable. The head is written with the first body bytes unless flushed. */
  const release = async (): Promise<void> => {
    if (released) return;
    try {
      await audit.commit();
    } catch (e) {
      upstreamRes.destroy();
      throw auditUnavailable(e, 'the response was withheld');
    }
    released = true;
    res.writeHead(status, head);
  };
  const complete = (error?: { code: string; message: string }): Promise<void> => {
    const note = maskingNote();
    return audit.complete({ status, bytesIn: ctx.bytesIn, bytesOut, durationMs: elapsedMs(ctx), ...(error ? { error } : {}), ...(note ? { masking: note } : {}) });
  };

  let held: Buffer | undefined;
  try {
    if (!delimited) {
      await release();
      res.flushHeaders();
    }
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (chunk.length === 0) continue;
      if (delimited) {
        const previous = held;
        held = chunk;
        if (!previous) continue;
        await release();
        audit.record('response', previous, withhold);
        await send(res, previous);
        bytesOut += previous.length;
      } else {
        audit.record('response', chunk, withhold);
        const failed = audit.recordingFailure();
        if (failed) throw failed;
        await send(res, chunk);
        bytesOut += chunk.length;
      }
    }
  } catch (e) {
    if (e instanceof Rejection) throw e;
    const unmaskable = masker !== null && isMaskingFailure(e);
    if (unmaskable) upstreamRes.destroy();
    // The masker refused the answer, the trail could not record it, upstream broke off, or the client went away.
    if (!released && !res.destroyed) throw unmaskable ? unmaskableRejection(e) : upstreamUnavailable(ctx, e);
    const unrecorded = e === audit.recordingFailure();
    if (unrecorded) upstreamRes.destroy();
    const code = unmaskable ? 'RESPONSE_UNMASKABLE' : unrecorded ? 'AUDIT_UNAVAILABLE' : 'STREAM_ABORTED';
    const error = { code, message: (e as Error).message };
    if (unmaskable) ctx.deps.log.warn({ id: ctx.id, err: (e as Error).message }, 'a response could not be masked; the stream was cut');
    await complete(error).catch((err: unknown) =>
      ctx.deps.log.error({ id: ctx.id, err: (err as Error).message }, 'audit completion failed'),
    );
    res.destroy();
    return;
  }

  // The whole answer is here: its outcome (and its recorded chunks) is committed before the last byte goes out.
  if (held) {
    bytesOut += held.length;
    audit.record('response', held, withhold);
  }
  try {
    await complete();
  } catch (e) {
    if (!released) throw auditUnavailable(e, 'the response was withheld');
    res.destroy(); // the client never sees a complete answer the trail did not take
    return;
  }
  if (!released) {
    released = true;
    if (masker) head.push('Content-Length', String(held?.length ?? 0));
    res.writeHead(status, head);
  }
  res.end(held);
}

/**
 * The request body as the trail keeps it: masked (Secret values, credentials) even when policy
 * lifted the masking of the answer, from the decoded object when the body was protobuf.
 */
function recordRequestBody(ctx: KubeContext): void {
  if (!ctx.body?.length) return;
  const a = ctx.attributes;
  const secret = a?.apiGroup === '' && a.resource === 'secrets';
  const text =
    a?.object !== undefined ? maskedValueText(a.object, secret, ctx.deps.masking) : maskedBodyText(ctx.body, ctx.req.headers['content-type'], secret, ctx.deps.masking);
  if (text !== undefined) ctx.audit!.record('request', Buffer.from(text));
}

/** A failure of the masking transforms (the masker's refusal, a decompression error), not of the sockets. */
function isMaskingFailure(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  if (e instanceof KubeMaskError) return true;
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return code.startsWith('Z_') || code.startsWith('ERR_ZLIB') || code.startsWith('ERR__ERROR_FORMAT');
}

function unmaskableRejection(e: unknown): Rejection {
  return new Rejection('RESPONSE_UNMASKABLE', 502, 'InternalError', `sluice: the response could not be masked, so it was not passed on: ${(e as Error).message}`);
}

function upstreamUnavailable(ctx: KubeContext, e: unknown): Rejection {
  return new Rejection('UPSTREAM_UNAVAILABLE', 502, 'InternalError', `sluice: the API server of connection ${ctx.upstream!.name} is unavailable`, {
    cause: (e as Error).message,
  });
}

/** Write one chunk, waiting for the client to drain when its buffer is full; rejects if the client goes away. */
function send(res: ServerResponse, chunk: Buffer): Promise<void> | void {
  if (res.destroyed) throw new Error('the client went away');
  if (res.write(chunk)) return;
  return new Promise<void>((resolve, reject) => {
    const drained = (): void => {
      res.off('close', closed);
      resolve();
    };
    const closed = (): void => {
      res.off('drain', drained);
      reject(new Error('the client went away'));
    };
    res.once('drain', drained);
    res.once('close', closed);
  });
}
