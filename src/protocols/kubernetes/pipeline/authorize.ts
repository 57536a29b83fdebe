/**
 * Stage 5 — authorize: the pure policy decision. deny → 403 naming the rule (or saying that no
 * rule allows it) and the request id, so kubectl prints why and the person can ask for access;
 * review → 403 "requires approval" until the approval workflow can hold the request (issue #4).
 */
import { decide } from '../../../policy/decide.ts';
import type { Stage } from './context.ts';
import { Rejection } from './rejection.ts';

export const authorize: Stage = {
  name: 'authorize',
  run(ctx) {
    const decision = decide(ctx.principal!, ctx.attributes!, ctx.deps.policies());
    ctx.decision = decision;
    if (decision.effect === 'allow') return;
    const detail = { rules: decision.rules.map((r) => r.id), errors: decision.errors };
    if (decision.effect === 'review') {
      throw new Rejection(
        'APPROVAL_REQUIRED',
        403,
        'Forbidden',
        `sluice: ${decision.message}; this gateway cannot hold requests for approval yet, so it is refused (request ${ctx.id})`,
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
