/**
 * Stage 5 — authorize: the pure policy decision, over the policy and the person's active grants
 * (time-bound roles). deny → 403 naming the rule (or saying that no rule allows it) and the
 * request id, so kubectl prints why and the person can ask for access; review → held for
 * approval by the next stages — or 403 "requires approval" when the gateway runs without
 * approvals.
 */
import { activeGrants } from '../../../approval/active-grants.ts';
import { decide } from '../../../policy/decide.ts';
import type { Stage } from './context.ts';
import { Rejection } from './rejection.ts';

export const authorize: Stage = {
  name: 'authorize',
  run(ctx) {
    const grants = activeGrants(ctx.deps.approvals?.activeGrants() ?? []);
    const decision = decide(ctx.principal!, ctx.attributes!, ctx.deps.policies(), grants.length ? { grants } : {});
    ctx.decision = decision;
    ctx.caller?.onDecision?.(decision, ctx.id);
    if (decision.effect === 'allow') return;
    const detail = { rules: decision.rules.map((r) => r.id), errors: decision.errors };
    if (decision.effect === 'review') {
      if (ctx.deps.approvals) return;
      throw new Rejection(
        'APPROVAL_REQUIRED',
        403,
        'Forbidden',
        `sluice: ${decision.message}; this gateway runs without approvals, so it is refused (request ${ctx.id})`,
        detail,
      );
    }
    throw new Rejection(
      'POLICY_DENIED',
      403,
      'Forbidden',
      `sluice: ${decision.message}. To get access, ask your Sluice administrator and quote request ${ctx.id}`,
      detail,
    );
  },
};

