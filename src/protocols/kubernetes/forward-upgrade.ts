/**
 * Stage 9 (upgrades) — exec, attach and port-forward over WebSocket or SPDY/3.1. The request was
 * authorized before this point; it is forwarded with Sluice's credentials and, only when the
 * API server answers `101 Switching Protocols`, the two sockets are spliced. Any other answer is
 * passed to the client and the connection is closed: no raw tunnel is ever left open behind a
 * failed upgrade (CVE-2018-1002105).
 *
 * Output masking (issue #5): given value detectors, the stdout and stderr of exec and attach are
 * masked on their way to the client — over WebSocket (ws-exec-masking.ts: frames parsed and
 * written again with `ws`) and over SPDY/3.1 (spdy-exec-masking.ts: DATA frames rewritten, which
 * spdystream's lack of flow control makes safe; the finding is written down there). The client's
 * direction stays a splice; port-forward is never masked. What was masked goes into the audit
 * outcome (`masking`) when the session ends.
 *
 * Recording (issue #6, ADR 0002 Decision 5): an exec or attach session is recorded unless
 * `record: false` — stdout and stderr as the client received them, stdin (its recorded copy
 * masked like output; the bytes sent upstream are the client's), resize messages and the exit
 * Status, each through `ctx.audit.record()`; src/audit/asciicast.ts turns them into a cast.
 * A recorded session whose masking is off or lifted goes through the same relay without masking
 * (the bytes pass unchanged), so it is recorded too; when masking was lifted by policy, the
 * recorded copy of the output is masked with `recordingDetectors` (audit records never hold
 * unmasked secrets). When the trail stops taking the recording (`recordingFailure()`: a segment
 * the store refused) the session is closed — checked before every recorded piece and every
 * chunk from the API server, so output does not go on reaching a client unrecorded — and its
 * outcome carries AUDIT_UNAVAILABLE. Port-forward, and an exec/attach neither masked nor
 * recorded, are spliced exactly as before.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { upstreamRequest } from './upstream-request.ts';
import { responseHeaders } from './response-headers.ts';
import { elapsedMs } from './forward-http.ts';
import type { KubeContext } from './pipeline/context.ts';
import { Rejection } from './pipeline/rejection.ts';
import type { AuditMasking, RecordedStream } from '../../audit/types.ts';
import type { DetectorSet } from '../../masking/detectors/index.ts';
import { isExecOrAttach, type ExecMaskingOptions, type ExecRecording, type MaskedRelay } from './exec-masking.ts';
import { relayMaskedWebSocket } from './ws-exec-masking.ts';
import { relayMaskedSpdy } from './spdy-exec-masking.ts';

const ALLOWED_UPGRADES = /^(websocket|spdy\/3\.1)$/i;

/** How long the other side of a splice may still flush after one side has closed. */
const SPLICE_DRAIN_MS = 10_000;

export function checkUpgrade(req: IncomingMessage): string {
  const upgrade = req.headers.upgrade ?? '';
  if (!ALLOWED_UPGRADES.test(upgrade)) {
    throw new Rejection('REQUEST_INVALID', 400, 'BadRequest', `unsupported upgrade ${JSON.stringify(upgrade.slice(0, 40))}: only websocket and SPDY/3.1`);
  }
  return upgrade;
}

function head(status: number, message: string, headers: [string, string][]): string {
  return `HTTP/1.1 ${status} ${message}\r\n${headers.map(([k, v]) => `${k}: ${v}`).join('\r\n')}${headers.length ? '\r\n' : ''}\r\n`;
}

export interface UpgradeOptions {
  /**
   * Value detectors for the output of exec and attach (stdout, stderr). Absent: the upgrade is
   * spliced unchanged. Ignored for port-forward.
   */
  detectors?: DetectorSet;
  /** Longest partial output line held per stream (default 1 MiB; config `masking.maxLineBytes`). */
  maxLineBytes?: number;
  /** Quiet time after which a partial line (a prompt, typed echo) is released (default 25 ms). */
  idleMs?: number;
  /**
   * The audit outcome's `masking` when the session is not masked — e.g. `{ fields: {}, detectors:
   * {}, lifted: [rule ids] }` when a policy rule lifted masking (response-masking.ts liftedMasking).
   */
  unmaskedAudit?: AuditMasking;
  /**
   * Record an exec/attach session (stdin, stdout, stderr, resize, exit Status) through
   * `ctx.audit.record()`. Default true; ignored for port-forward (never recorded).
   */
  record?: boolean;
  /**
   * Value detectors for the recording when `detectors` is absent because a policy rule lifted
   * masking: the client gets the output unmasked, the recorded copies (output and stdin) are
   * masked. Absent too (masking off): everything is recorded as it is.
   */
  recordingDetectors?: DetectorSet;
}

export async function forwardUpgrade(ctx: KubeContext, socket: Duplex, firstBytes: Buffer, opts: UpgradeOptions = {}): Promise<void> {
  const up = ctx.upstream!;
  const upgrade = checkUpgrade(ctx.req);
  const session = isExecOrAttach(ctx);
  const detectors = opts.detectors !== undefined && session ? opts.detectors : undefined;
  const recording = session && (opts.record ?? true);
  /** Parsed and written again by a relay (masked, recorded, or both) rather than spliced. */
  const relayed = detectors !== undefined || recording;
  const websocket = /^websocket$/i.test(upgrade);
  const upstreamReq = await upstreamRequest(ctx, { upgrade });
  // A relayed WebSocket session is parsed and written again: no compression extension.
  if (relayed && websocket) upstreamReq.removeHeader('sec-websocket-extensions');
  let bytesIn = 0;
  let bytesOut = 0;
  let done = false;
  let relay: MaskedRelay | null = null;
  /** Why the session was cut (the trail stopped taking its recording). */
  let cut: { code: string; message: string } | undefined;
  const complete = (status: number, error?: { code: string; message: string }): void => {
    if (done) return;
    done = true;
    let masking: AuditMasking | undefined = opts.unmaskedAudit;
    // What stdin's recorder holds is recorded before the outcome.
    relay?.finish();
    if (relay !== null && detectors !== undefined) {
      const counts = relay.counts();
      masking = { fields: {}, detectors: counts.detectors, ...(counts.oversizeLines ? { oversizeLines: counts.oversizeLines } : {}) };
    }
    const outcome = { status, bytesIn, bytesOut, durationMs: elapsedMs(ctx), ...(error ? { error } : {}), ...(masking ? { masking } : {}) };
    ctx.audit!.complete(outcome).catch((e: unknown) => ctx.deps.log.error({ id: ctx.id, err: (e as Error).message }, 'audit completion failed'));
  };
  socket.on('error', () => upstreamReq.destroy());

  await new Promise<void>((resolve, reject) => {
    upstreamReq.on('upgrade', (res: IncomingMessage, upstreamSocket: Duplex, upstreamHead: Buffer) => {
      // Node emits 'upgrade' only for 101 Switching Protocols.
      const extra: [string, string][] = [['Connection', 'Upgrade']];
      if (ctx.warning) extra.push(['Warning', `299 - ${JSON.stringify(ctx.warning)}`]);
      if (relayed && websocket && res.headers['sec-websocket-extensions']) {
        // Compressed frames cannot be masked or recorded without inflating them: refuse rather than pass them on.
        const message = `sluice: the API server negotiated WebSocket extension ${JSON.stringify(res.headers['sec-websocket-extensions'])} on a ${detectors !== undefined ? 'masked' : 'recorded'} exec session`;
        ctx.deps.log.error({ id: ctx.id }, message);
        upstreamSocket.destroy();
        socket.destroy();
        complete(502, { code: 'UPSTREAM_UNAVAILABLE', message });
        resolve();
        return;
      }
      socket.write(head(101, 'Switching Protocols', responseHeaders(res.rawHeaders, true).concat(extra)));
      socket.on('data', (c: Buffer) => (bytesIn += c.length));
      upstreamSocket.on('data', (c: Buffer) => (bytesOut += c.length));
      bytesOut += upstreamHead.length;
      if (relayed) {
        // Masked and/or recorded: the client's bytes are spliced (and observed), the API
        // server's are relayed frame by frame.
        const audit = ctx.audit!;
        /** Closes the session once the trail has stopped taking its recording (before the bytes at hand go out). */
        const checkRecording = (): void => {
          if (!recording || cut !== undefined) return;
          const err = audit.recordingFailure();
          if (err === undefined) return;
          cut = { code: 'AUDIT_UNAVAILABLE', message: 'sluice: the audit trail stopped taking the session\'s recording, so the session was closed' };
          ctx.deps.log.error({ id: ctx.id, err: err.message }, 'exec/attach recording failed; session closed');
          upstreamSocket.destroy();
          socket.destroy();
        };
        // Registered before the relay's own listener: a chunk is checked before it is relayed.
        upstreamSocket.on('data', checkRecording);
        const fail = (err: Error): void => {
          ctx.deps.log.warn({ id: ctx.id, err: err.message }, 'exec/attach stream could not be parsed; session closed');
          upstreamSocket.destroy();
          socket.destroy();
        };
        const options = (d: DetectorSet | undefined): ExecMaskingOptions | undefined => (d !== undefined ? { detectors: d, maxLineBytes: opts.maxLineBytes, idleMs: opts.idleMs } : undefined);
        const masking = options(detectors);
        const record = (stream: RecordedStream, data: Buffer): void => {
          audit.record(stream, data);
          checkRecording();
        };
        const copies = masking ?? options(opts.recordingDetectors);
        const rec: ExecRecording | undefined = recording ? { record, ...(copies ? { masking: copies } : {}) } : undefined;
        const common = { upstream: upstreamSocket, client: socket, head: upstreamHead, ...(masking ? { masking } : {}), ...(rec ? { recording: rec } : {}), fail };
        const r: MaskedRelay = websocket ? relayMaskedWebSocket({ protocol: String(res.headers['sec-websocket-protocol'] ?? ''), ...common }) : relayMaskedSpdy(common);
        relay = r;
        // SPDY: stream types are read from the client's frames (masking needs them); both: stdin and resize (recording).
        if (!websocket || recording) {
          if (firstBytes.length) r.observeClient(firstBytes);
          socket.on('data', (c: Buffer) => r.observeClient(c));
        }
        socket.pipe(upstreamSocket);
      } else {
        if (upstreamHead.length) socket.write(upstreamHead);
        // Splice. An end on one side is passed on as an end (pipe), so bytes still in flight are
        // delivered (kubectl cp's last tar blocks); once one side has closed, the other gets
        // SPLICE_DRAIN_MS to finish before it is destroyed. Errors tear both down at once.
        socket.pipe(upstreamSocket);
        upstreamSocket.pipe(socket);
      }
      // The client's bytes that came with the request go first (observed above: a relay that
      // refused them has closed the session).
      if (firstBytes.length) {
        bytesIn += firstBytes.length;
        if (!upstreamSocket.destroyed) upstreamSocket.write(firstBytes);
      }
      let open = 2;
      const closed = (other: Duplex) => (): void => {
        if (--open === 0) {
          complete(101, cut);
          return;
        }
        other.end();
        setTimeout(() => other.destroy(), SPLICE_DRAIN_MS).unref();
      };
      socket.once('close', closed(upstreamSocket));
      upstreamSocket.once('close', closed(socket));
      socket.on('error', () => upstreamSocket.destroy());
      upstreamSocket.on('error', () => socket.destroy());
      resolve();
    });
    upstreamReq.on('response', (res: IncomingMessage) => {
      // Not upgraded: relay the answer and close the client connection.
      const status = res.statusCode ?? 502;
      socket.write(head(status, STATUS_CODES[status] ?? '', [...responseHeaders(res.rawHeaders).filter(([k]) => k.toLowerCase() !== 'content-length'), ['Connection', 'close']]));
      res.on('data', (c: Buffer) => {
        bytesOut += c.length;
        socket.write(c);
      });
      res.on('end', () => {
        socket.end();
        complete(status);
      });
      res.on('error', () => socket.destroy());
      resolve();
    });
    upstreamReq.on('error', (e) => {
      reject(new Rejection('UPSTREAM_UNAVAILABLE', 502, 'InternalError', `sluice: the API server of connection ${up.name} is unavailable`, { cause: e.message }));
    });
    upstreamReq.end();
  });
}
