/**
 * resolveApprovalId: the full id of an approval named by its UUID or by a unique prefix of at
 * least MIN_PREFIX hex characters (what `sluice approvals` prints is the first 8). A prefix is
 * looked up among the approvals the viewer may see, so it never reveals others' ids.
 */
import type { ApprovalService } from '../approval/types.ts';
import type { Principal } from '../core/principal.ts';
import { SluiceError } from '../core/errors.ts';
import { MAX_LIST_LIMIT } from './control-schemas.ts';

export const MIN_PREFIX = 6;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Candidates named in an "ambiguous" message at most. */
const MAX_CANDIDATES = 10;

export async function resolveApprovalId(raw: string, viewer: Principal, approvals: ApprovalService): Promise<string> {
  const id = raw.toLowerCase();
  if (UUID.test(id)) return id;
  if (!/^[0-9a-f-]+$/.test(id) || id.replace(/-/g, '').length < MIN_PREFIX)
    throw new SluiceError('APPROVAL_INVALID', `"${raw.slice(0, 40)}" is not an approval id: give the id or a unique prefix of at least ${MIN_PREFIX} hex characters`);
  // The newest MAX_LIST_LIMIT the viewer may see: older ones are named by their full id.
  const matches = (await approvals.list(viewer, { limit: MAX_LIST_LIMIT })).filter((a) => a.id.startsWith(id));
  if (matches.length === 0) throw new SluiceError('APPROVAL_NOT_FOUND', `no approval ${raw} (or you may not see it)`);
  if (matches.length > 1) {
    const shown = matches.slice(0, MAX_CANDIDATES).map((a) => `${a.id} (${a.kind}, ${a.state})`);
    const more = matches.length > MAX_CANDIDATES ? `, and ${matches.length - MAX_CANDIDATES} more` : '';
    throw new SluiceError('APPROVAL_NOT_FOUND', `approval id prefix ${raw} is ambiguous: ${shown.join(', ')}${more}`);
  }
  return matches[0]!.id;
}
