/**
 * Stage 6 — request approval (review decisions only): open the approval of exactly this request,
 * or join the one an identical earlier attempt opened (a kubectl that gave up and was run again).
 * The approval is durable before the request's own record is written, so the record can name it.
 * Too many held requests, or a store that cannot take the approval: refused, nothing held.
 */
import { isSluiceError } from '../../../core/errors.ts';
import type { Stage } from './context.ts';
import { Rejection } from './rejection.ts';

export const requestApproval: Stage = {
  name: 'request-approval',
  async run(ctx) {
    const approvals = ctx.deps.approvals;
    const d = ctx.decision!;
    if (d.effect !== 'review' || !approvals) return;
    const { object: _object, objectError: _objectError, ...attributes } = ctx.attributes!;
    try {
      ctx.hold = await approvals.hold({
        principal: ctx.principal!,
        connection: ctx.upstream!.name,
        method: ctx.req.method ?? '',
        path: ctx.path,
        query: ctx.query.slice(1),
        attributes,
        ...(ctx.body ? { body: ctx.body } : {}),
        ...(ctx.req.headers['content-type'] ? { contentType: ctx.req.headers['content-type'] } : {}),
        requirements: (d.review ?? []).map((r) => ({
          ruleId: r.ruleId,
          approvers: r.approvers,
          minApprovals: r.minApprovals,
          ...(r.timeoutMs !== undefined ? { timeoutMs: r.timeoutMs } : {}),
          ...((r as { requireReason?: boolean }).requireReason ? { requireReason: true } : {}),
        })),
        rules: d.rules.map((r) => r.id),
        message: d.message,
        requestId: ctx.id,
      });
      ctx.caller?.onHold?.(ctx.hold, ctx.id);
    } catch (e) {
      const busy = isSluiceError(e) && e.code === 'APPROVAL_REQUIRED';
      throw new Rejection(
        busy ? 'APPROVAL_REQUIRED' : 'STORE_UNAVAILABLE',
        503,
        'ServiceUnavailable',
        busy ? `sluice: ${d.message}, but ${(e as Error).message} (request ${ctx.id})` : `sluice: ${d.message}, but the approval could not be recorded, so the request was refused (request ${ctx.id})`,
        { cause: (e as Error).message },
      );
    }
  },
};
