/**
 * Stage 8 — await approval (held requests only): the client's request stays open — kubectl simply
 * waits — until an approver decides, the approval expires, or the client goes away.
 * - granted: this attempt spent the approval; it is forwarded exactly as received, and the
 *   answer carries a `Warning` naming the approval and the approvers (kubectl prints it);
 * - denied / expired: 403 naming the approval and the decision;
 * - another attempt of the same request spent it: 409 (an approval runs its request once);
 * - the client went away: nothing is sent; the approval stays open for a retry to join.
 */
import type { Approval } from '../../../approval/types.ts';
import type { Stage } from './context.ts';
import { Rejection } from './rejection.ts';

const approvers = (a: Approval, vote: 'approve' | 'deny'): string =>
  a.votes
    .filter((v) => v.vote === vote)
    .map((v) => v.approver.username)
    .join(', ');

export const awaitApproval: Stage = {
  name: 'await-approval',
  async run(ctx) {
    const hold = ctx.hold;
    if (!hold) return;
    const id = hold.approval.id;
    const ac = new AbortController();
    const socket = ctx.req.socket;
    const gone = (): void => ac.abort();
    socket.once('close', gone);
    ctx.deps.log.info({ id: ctx.id, approval: id, joined: hold.joined, user: ctx.principal?.username }, 'request held for approval');
    let r;
    try {
      r = await hold.wait(ac.signal);
    } finally {
      socket.off('close', gone);
    }
    const a = r.approval;
    switch (r.outcome) {
      case 'granted':
        ctx.warning = `sluice: held for approval ${id}, approved by ${approvers(a, 'approve')}`;
        return;
      case 'denied': {
        const vote = a.votes.find((v) => v.vote === 'deny');
        throw new Rejection(
          'APPROVAL_DENIED',
          403,
          'Forbidden',
          `sluice: denied by ${vote?.approver.username ?? 'an approver'}${vote?.reason ? `: ${vote.reason}` : ''} (approval ${id}, request ${ctx.id})`,
          { approval: id },
        );
      }
      case 'expired':
        throw new Rejection('APPROVAL_EXPIRED', 403, 'Forbidden', `sluice: approval ${id} expired without a decision; run the command again to ask anew (request ${ctx.id})`, {
          approval: id,
        });
      case 'conflict':
        throw new Rejection('APPROVAL_CONFLICT', 409, 'Conflict', `sluice: approval ${id} was already used by another attempt of this request (request ${ctx.id})`, {
          approval: id,
          spentBy: a.spentBy,
        });
      case 'aborted':
        throw new Rejection('APPROVAL_REQUIRED', 499 as number, 'Forbidden', `sluice: the client went away while request ${ctx.id} was held for approval ${id}`, {
          approval: id,
          clientGone: true,
        });
    }
  },
};
