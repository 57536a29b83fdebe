/**
 * streamApprovalEvents: `GET /sluice/v1/approvals/events` as server-sent events (WHATWG HTML
 * §9.2, `text/event-stream`). First a `snapshot` event with the pending approvals the viewer
 * may see, then one event per transition (`event: approval.approved`, `data: {type, approval,
 * actor, at}`) of an approval the viewer may see: its requester or an eligible approver, which
 * is what `ApprovalService.get` decides (an event whose `get` says APPROVAL_NOT_FOUND is not
 * theirs). A `: ping` comment keeps proxies and the client's idle timeout from cutting the
 * stream. The stream ends when the viewer's token expires (the client reconnects with a fresh
 * one) and the subscription ends when the client goes away.
 *
 * The subscription starts before the snapshot is read, so no transition falls between them
 * (one may arrive twice: clients treat events as updates of an approval by id).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ApprovalEvent, ApprovalService } from '../approval/types.ts';
import type { VerifiedPrincipal } from '../authn/principal-from-claims.ts';
import { isSluiceError } from '../core/errors.ts';

/** The longest delay setTimeout takes (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface EventStreamOptions {
  approvals: ApprovalService;
  log: Logger;
  now: () => Date;
  /** Interval of `: ping` comments. */
  heartbeatMs: number;
}

export interface OpenEventStream {
  /** End the stream now (gateway shutdown). */
  close(): void;
  /** Resolves when the stream has ended, for whatever reason. */
  readonly closed: Promise<void>;
}

/** One SSE message; data is JSON on one line (JSON.stringify escapes newlines). */
function message(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Open the stream: reads the snapshot before answering, so that a failing store is answered
 * with an error status rather than an empty stream (throws the service's SluiceError).
 */
export async function streamApprovalEvents(
  req: IncomingMessage,
  res: ServerResponse,
  viewer: VerifiedPrincipal,
  opts: EventStreamOptions,
): Promise<OpenEventStream> {
  const { approvals, log } = opts;
  const view = (a: ApprovalEvent['approval']) => ({ ...a, canDecide: approvals.canDecide(a, viewer) });

  const early: ApprovalEvent[] = [];
  let deliver: (e: ApprovalEvent) => void = (e) => early.push(e);
  const unsubscribe = approvals.subscribe((e) => deliver(e));
  let snapshot;
  try {
    snapshot = await approvals.list(viewer, { states: ['pending'] });
  } catch (err) {
    unsubscribe();
    throw err;
  }

  let ended = false;
  const timers: NodeJS.Timeout[] = [];
  let markClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const finish = (): void => {
    if (ended) return;
    ended = true;
    unsubscribe();
    for (const t of timers) clearTimeout(t);
    markClosed();
  };
  res.on('close', finish);
  req.on('error', finish);
  if (res.destroyed) finish();
  if (ended) return { close: () => undefined, closed };
  const end = (comment: string): void => {
    if (!ended && !res.writableEnded) res.end(`: ${comment}\n\n`);
    finish();
  };

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    // Reverse proxies (nginx) must pass events on at once.
    'x-accel-buffering': 'no',
  });
  res.write(message('snapshot', { approvals: snapshot.map(view) }));

  const left = viewer.expiresAt.getTime() - opts.now().getTime();
  timers.push(
    setInterval(() => {
      if (!ended) res.write(': ping\n\n');
    }, opts.heartbeatMs).unref(),
    setTimeout(() => end('token expired: reconnect with a fresh token'), Math.max(0, Math.min(left, MAX_TIMER_MS))).unref(),
  );

  // Transitions are forwarded in order, each after its visibility check.
  let chain = Promise.resolve();
  const forward = async (e: ApprovalEvent): Promise<void> => {
    if (ended) return;
    try {
      await approvals.get(e.approval.id, viewer);
    } catch (err) {
      if (!isSluiceError(err) || err.code !== 'APPROVAL_NOT_FOUND')
        log.warn({ err: isSluiceError(err) ? err.message : String(err), approval: e.approval.id }, 'approval events: visibility check failed; event skipped');
      return;
    }
    if (ended) return;
    res.write(message(e.type, { type: e.type, approval: view(e.approval), ...(e.actor ? { actor: e.actor } : {}), at: e.at }));
  };
  deliver = (e) => {
    chain = chain.then(() => forward(e));
  };
  for (const e of early.splice(0)) deliver(e);

  return { close: () => end('the gateway is shutting down'), closed };
}
