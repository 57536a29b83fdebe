/**
 * readJsonBody: the JSON body of a control API request, at most MAX_BODY_BYTES (413 beyond,
 * before the rest is read). An empty body is `{}` (`approve` and `revoke` need nothing); a
 * non-empty one must be `application/json` (415 otherwise) and parse (400 otherwise). What
 * the value must look like is each route's zod schema's business.
 */
import type { IncomingMessage } from 'node:http';
import { ControlProblem } from './control-error.ts';

/** Largest request body the control API reads. */
export const MAX_BODY_BYTES = 64 * 1024;

function tooLarge(limit: number): ControlProblem {
  // The rest of the body is not read: the connection is closed after the answer.
  return new ControlProblem(413, 'REQUEST_TOO_LARGE', `the request body is larger than ${limit} bytes`, { connection: 'close' });
}

/** Collect at most `limit` bytes; stop listening (and let the connection close) beyond. */
function readLimited(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge(limit);
  const body = await readLimited(req, limit);
  if (body.length === 0) return {};
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new ControlProblem(415, 'REQUEST_INVALID', 'send the request body as application/json');
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (e) {
    throw new ControlProblem(400, 'REQUEST_INVALID', `the request body is not valid JSON: ${(e as Error).message.slice(0, 200)}`);
  }
}
