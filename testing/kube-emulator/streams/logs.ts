/**
 * GET /api/v1/namespaces/{ns}/pods/{name}/log — PodLogOptions (k8s.io/api/core/v1) as the API
 * server and kubelet apply them: container, follow, previous, sinceSeconds, sinceTime,
 * timestamps, tailLines, limitBytes. A followed log is a chunked text/plain stream that gets one
 * more line every interval until the client goes away.
 *
 * A pod annotated `emulator.sluice.dev/log-volume-bytes: N` (log-content.ts) has N bytes of
 * generated log per container, streamed block by block as the client reads (backpressure: the
 * next block is written once the socket drained), never built in memory. limitBytes, container,
 * follow (new lines after the N bytes) and previous (the previous instance's own short log)
 * apply; the generated lines carry no times, so timestamps, tailLines, sinceSeconds and
 * sinceTime do not apply to them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PodStreamContext } from '../types.ts';
import { StatusError } from '../status.ts';
import { boolParam, podStatus, restartCount, selectContainer } from './pod-info.ts';
import { containerLog, logVolumeBytes, requestLine, rfc3339Nano, volumeBlock, type LogLine } from './log-content.ts';

export interface LogOptions {
  intervalMs: number;
  /** Registers a cleanup to run on emulator shutdown; returns the unregister function. */
  track(stop: () => void): () => void;
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) {
    throw StatusError.of(400, 'BadRequest', `couldn't parse ${name}: strconv.ParseInt: parsing "${v}": invalid syntax`);
  }
  return Number(v);
}

function invalid(name: string, field: string, value: number, msg: string): StatusError {
  return StatusError.of(422, 'Invalid', `PodLogOptions "${name}" is invalid: ${field}: Invalid value: ${value}: ${msg}`, {
    name,
    kind: 'PodLogOptions',
    causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: ${value}: ${msg}`, field }],
  });
}

export function handleLogs(ctx: PodStreamContext, req: IncomingMessage, res: ServerResponse, opts: LogOptions): void {
  const q = ctx.query;
  const container = selectContainer(ctx.pod, q.get('container'), ctx.name);
  const follow = boolParam(q, 'follow', false);
  const previous = boolParam(q, 'previous', false);
  const timestamps = boolParam(q, 'timestamps', false);
  const tailLines = intParam(q, 'tailLines');
  const limitBytes = intParam(q, 'limitBytes');
  const sinceSeconds = intParam(q, 'sinceSeconds');
  const sinceTimeRaw = q.get('sinceTime');
  if (tailLines !== undefined && tailLines < 0) throw invalid(ctx.name, 'tailLines', tailLines, 'must be greater than or equal to 0');
  if (limitBytes !== undefined && limitBytes < 1) throw invalid(ctx.name, 'limitBytes', limitBytes, 'must be greater than 0');
  if (sinceSeconds !== undefined && sinceSeconds < 1) throw invalid(ctx.name, 'sinceSeconds', sinceSeconds, 'must be greater than 0');
  if (sinceSeconds !== undefined && sinceTimeRaw) {
    throw StatusError.of(422, 'Invalid', `PodLogOptions "${ctx.name}" is invalid: sinceSeconds: Forbidden: at most one of sinceTime or sinceSeconds may be specified`);
  }
  const phase = podStatus(ctx.pod).phase;
  if (phase === 'Pending') {
    throw StatusError.of(400, 'BadRequest', `container "${container.name}" in pod "${ctx.name}" is waiting to start: ContainerCreating`);
  }
  if (previous && restartCount(ctx.pod, container.name) === 0) {
    throw StatusError.of(400, 'BadRequest', `previous terminated container "${container.name}" in pod "${ctx.name}" not found`);
  }

  let since: number | undefined;
  if (sinceSeconds !== undefined) since = Date.now() - sinceSeconds * 1000;
  if (sinceTimeRaw) {
    const t = Date.parse(sinceTimeRaw);
    if (!Number.isFinite(t)) throw StatusError.of(400, 'BadRequest', `parsing time "${sinceTimeRaw}" as "2006-01-02T15:04:05Z07:00": cannot parse`);
    since = t;
  }

  const volume = previous ? undefined : logVolumeBytes(ctx.pod);
  let lines = volume === undefined ? containerLog(ctx.pod, container, previous) : [];
  if (since !== undefined) lines = lines.filter((l) => l.time.getTime() >= since);
  if (tailLines !== undefined) lines = tailLines === 0 ? [] : lines.slice(-tailLines);

  ctx.setStatus(200);
  res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
  let remaining = limitBytes ?? Infinity;
  const format = (l: LogLine): string => (timestamps ? `${rfc3339Nano(l.time)} ${l.text}\n` : `${l.text}\n`);
  /** Write, honouring limitBytes; returns false once the limit is reached. */
  const emit = (l: LogLine): boolean => {
    if (remaining <= 0) return false;
    let buf = Buffer.from(format(l), 'utf8');
    if (buf.length > remaining) buf = buf.subarray(0, remaining);
    remaining -= buf.length;
    res.write(buf);
    return remaining > 0;
  };
  for (const l of lines) {
    if (!emit(l)) {
      res.end();
      return;
    }
  }
  if (volume === undefined) {
    followOrEnd();
    return;
  }
  // The generated volume: one block written again and again, the next write once the socket drained.
  const block = volumeBlock(ctx.pod, container.name);
  let left = req.method === 'HEAD' ? 0 : Math.min(volume, remaining);
  remaining -= left;
  let gone = false;
  const untrackVolume = opts.track(() => {
    gone = true;
    if (!res.writableEnded) res.end();
  });
  const onGone = (): void => {
    gone = true;
    untrackVolume();
  };
  res.on('close', onGone);
  const pump = (): void => {
    while (left > 0) {
      if (gone || res.destroyed) return;
      const b = left >= block.length ? block : block.subarray(0, left);
      left -= b.length;
      if (!res.write(b)) {
        res.once('drain', pump);
        return;
      }
    }
    res.off('close', onGone);
    untrackVolume();
    if (gone) return;
    if (remaining <= 0) res.end();
    else followOrEnd();
  };
  pump();

  function followOrEnd(): void {
    if (!follow || previous) {
      res.end();
      return;
    }
    startFollow();
  }

  function startFollow(): void {
    let n = 100;
    const timer = setInterval(() => {
      if (!emit({ time: new Date(), text: requestLine(ctx.pod, container.name, n++) })) stop();
    }, opts.intervalMs);
    timer.unref?.();
    const untrack = opts.track(() => stop());
    let stopped = false;
    function stop(): void {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      untrack();
      if (!res.writableEnded) res.end();
    }
    // Not req 'close': an IncomingMessage closes once its (empty) body is read.
    res.on('close', stop);
    req.socket.on('close', stop);
  }
}
