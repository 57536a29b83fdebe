/**
 * The Kubernetes request pipeline: one ordered list of small named stages (each a file under
 * ./pipeline with its own header), then the forward step. docs/architecture.md draws it.
 *
 *   authenticate → resolve-connection → read-body → classify → authorize → request-approval
 *     → record-decision → await-approval → forward
 *
 * (request-approval and await-approval act only on requests a review rule holds.)
 *
 * Authentication comes first so that nothing about the deployment (connection names, paths)
 * is revealed to a client without a valid identity.
 *
 * A stage that refuses the request throws a Rejection: the client gets a Kubernetes `Status`
 * (on a plain response, or written raw on an upgrade socket), and the refusal is recorded.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { authenticate } from './pipeline/authenticate.ts';
import { authorize } from './pipeline/authorize.ts';
import { awaitApproval } from './pipeline/await-approval.ts';
import { requestApproval } from './pipeline/request-approval.ts';
import { classify } from './pipeline/classify.ts';
import type { InternalCaller, KubeContext, KubernetesDeps, Stage } from './pipeline/context.ts';
import { readBody } from './pipeline/read-body.ts';
import { auditEntry, recordDecision } from './pipeline/record-decision.ts';
import { Rejection } from './pipeline/rejection.ts';
import { resolveConnection } from './pipeline/resolve-connection.ts';
import { elapsedMs, forwardHttp } from './forward-http.ts';
import { checkUpgrade, forwardUpgrade, type UpgradeOptions } from './forward-upgrade.ts';
import { liftedMasking, maskingFor } from './response-masking.ts';
import { rejectUpgrade, sendStatus } from './status.ts';

/**
 * exec/attach output is masked like logs unless masking is off or lifted, and the session is
 * recorded unless `recording.enabled` is false (issue #6) — when masking was
 * lifted, the recording is masked all the same. Port-forward is never masked nor recorded:
 * forward-upgrade decides.
 */
function upgradeOptions(ctx: KubeContext): UpgradeOptions {
  const record = ctx.deps.recordSessions ?? true;
  const m = maskingFor(ctx);
  if (m) return { detectors: m.detectors, maxLineBytes: m.maxLineBytes, record };
  const lifted = liftedMasking(ctx);
  const all = ctx.deps.masking;
  if (lifted && all) return { unmaskedAudit: lifted, recordingDetectors: all.detectors, maxLineBytes: all.maxLineBytes, record };
  return { record };
}

export const STAGES: readonly Stage[] = [authenticate, resolveConnection, readBody, classify, authorize, requestApproval, recordDecision, awaitApproval];

export interface KubernetesHandler {
  /** `caller`: only the in-process client (internal-client.ts) passes one; see InternalCaller. */
  handleRequest(req: IncomingMessage, res: ServerResponse, caller?: InternalCaller): void;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, caller?: InternalCaller): void;
}

export function createKubernetesHandler(deps: KubernetesDeps): KubernetesHandler {
  const now = deps.now ?? (() => new Date());

  function context(req: IncomingMessage, upgrade: boolean, caller: InternalCaller | undefined): KubeContext {
    const id = randomUUID();
    caller?.onStart?.(id);
    return {
      id,
      started: process.hrtime.bigint(),
      time: now(),
      req,
      sourceIp: caller ? caller.sourceIp : (req.socket?.remoteAddress ?? ''),
      upgrade,
      deps,
      ...(caller ? { caller } : {}),
      path: '/',
      query: '',
      bytesIn: 0,
    };
  }

  async function runStages(ctx: KubeContext): Promise<void> {
    for (const stage of STAGES) await stage.run(ctx);
  }

  /** Record a refused request (best effort: the refusal stands even if the trail is down). */
  async function recordRejection(ctx: KubeContext, r: Rejection): Promise<void> {
    const error = { code: r.code, message: r.message };
    // A client that left while its request was held got nothing: status 0.
    const outcome = { status: r.detail.clientGone ? 0 : r.status.code, bytesIn: ctx.bytesIn, bytesOut: 0, durationMs: elapsedMs(ctx), error };
    try {
      // One record per request: the one record-decision began, if it got that far.
      await (ctx.audit ?? deps.recorder.begin(auditEntry(ctx, error))).complete(outcome);
    } catch (e) {
      deps.log.error({ id: ctx.id, code: r.code, err: (e as Error).message }, 'could not record a refused request');
    }
    deps.log.info({ id: ctx.id, code: r.code, status: r.status.code, user: ctx.principal?.username, detail: r.detail }, 'request refused');
  }

  function toRejection(e: unknown): Rejection {
    if (e instanceof Rejection) return e;
    deps.log.error({ err: e instanceof Error ? e.stack : String(e) }, 'unexpected error in the Kubernetes pipeline');
    return new Rejection('UPSTREAM_UNAVAILABLE', 500, 'InternalError', 'sluice: internal error');
  }

  return {
    handleRequest(req, res, caller) {
      const ctx = context(req, false, caller);
      res.setHeader('x-sluice-request-id', ctx.id);
      (async () => {
        await runStages(ctx);
        await forwardHttp(ctx, res);
      })().catch(async (e: unknown) => {
        const r = toRejection(e);
        ctx.caller?.onRefused?.(r.code, ctx.id);
        if (!res.headersSent) {
          for (const [k, v] of Object.entries(r.headers)) res.setHeader(k, v);
          sendStatus(res, r.status);
        } else res.destroy();
        // Drain what the client still sends so the connection can be reused.
        req.resume();
        await recordRejection(ctx, r);
      });
    },

    handleUpgrade(req, socket, head, caller) {
      const ctx = context(req, true, caller);
      (async () => {
        checkUpgrade(req);
        await runStages(ctx);
        await forwardUpgrade(ctx, socket, head, upgradeOptions(ctx));
      })().catch(async (e: unknown) => {
        const r = toRejection(e);
        ctx.caller?.onRefused?.(r.code, ctx.id);
        rejectUpgrade(socket, r.status);
        await recordRejection(ctx, r);
      });
    },
  };
}
