/**
 * User impersonation, mirroring k8s.io/apiserver/pkg/endpoints/filters/impersonation.go:
 * Impersonate-User, Impersonate-Group (repeatable), Impersonate-Uid and
 * Impersonate-Extra-<key> (key lower-cased, then percent-decoded). Each requested attribute is
 * checked in order (user or service account, groups, extras, uid); the first that is not allowed
 * answers 403 with the real server's wording. Groups/extra/uid without a user is the real
 * server's 500. The impersonated user gets system:authenticated unless it already carries it
 * or system:unauthenticated; a service account without explicit groups gets its fixed groups.
 */
import { StatusError } from './status.ts';
import type { UserInfo } from './types.ts';

const USER = 'impersonate-user';
const GROUP = 'impersonate-group';
const UID = 'impersonate-uid';
const EXTRA_PREFIX = 'impersonate-extra-';
const SA_PREFIX = 'system:serviceaccount:';

export interface ImpersonationResult {
  user: UserInfo;
  impersonated: boolean;
}

/** One requested attribute, as the authorization check sees it (verb "impersonate"). */
interface ImpersonationRequest {
  kind: 'User' | 'ServiceAccount' | 'Group' | 'UserExtra' | 'UID';
  name: string;
  namespace?: string;
  extraKey?: string;
}

function values(h: Record<string, string[] | undefined>, name: string): string[] {
  return (h[name] ?? []).filter((v) => v !== '');
}

/** fmt %v of a v1.ObjectReference, as the real 500 message prints the requests. */
function goObjectRef(r: ImpersonationRequest): string {
  const apiVersion = r.kind === 'User' || r.kind === 'ServiceAccount' ? '' : 'authentication.k8s.io/v1';
  return `{${r.kind} ${r.namespace ?? ''} ${r.name}  ${apiVersion}  ${r.extraKey ?? ''}}`;
}

function forbidden(caller: UserInfo, r: ImpersonationRequest): StatusError {
  let resource: string;
  let group = '';
  let scope = 'at the cluster scope';
  switch (r.kind) {
    case 'User':
      resource = 'users';
      break;
    case 'ServiceAccount':
      resource = 'serviceaccounts';
      scope = `in the namespace "${r.namespace}"`;
      break;
    case 'Group':
      resource = 'groups';
      break;
    case 'UserExtra':
      resource = 'userextras';
      group = 'authentication.k8s.io';
      break;
    case 'UID':
      resource = 'uids';
      group = 'authentication.k8s.io';
      break;
  }
  const shown = r.kind === 'UserExtra' ? `userextras/${r.extraKey}` : resource;
  const qualified = group ? `${resource}.${group}` : resource;
  const message = `${qualified} "${r.name}" is forbidden: User "${caller.username}" cannot impersonate resource "${shown}" in API group "${group}" ${scope}`;
  return StatusError.of(403, 'Forbidden', message, { name: r.name, group: group || undefined, kind: resource });
}

/**
 * Apply the Impersonate-* headers. `mayImpersonate` says whether the caller may impersonate at
 * all (the emulator's authorization for verb "impersonate"). Throws StatusError (403, 500).
 */
export function applyImpersonation(
  caller: UserInfo,
  headersDistinct: Record<string, string[] | undefined>,
  mayImpersonate: (caller: UserInfo) => boolean,
): ImpersonationResult {
  const requests: ImpersonationRequest[] = [];
  const users = values(headersDistinct, USER);
  const groups = values(headersDistinct, GROUP);
  const uids = values(headersDistinct, UID);
  const username = users[0];
  let saNamespace: string | undefined;
  if (username !== undefined) {
    if (username.startsWith(SA_PREFIX) && username.slice(SA_PREFIX.length).split(':').length === 2) {
      const [ns, name] = username.slice(SA_PREFIX.length).split(':') as [string, string];
      saNamespace = ns;
      requests.push({ kind: 'ServiceAccount', name, namespace: ns });
    } else {
      requests.push({ kind: 'User', name: username });
    }
  }
  for (const g of groups) requests.push({ kind: 'Group', name: g });
  const extra: Record<string, string[]> = {};
  for (const [header, vals] of Object.entries(headersDistinct)) {
    if (!header.startsWith(EXTRA_PREFIX) || !vals) continue;
    let key = header.slice(EXTRA_PREFIX.length).toLowerCase();
    try {
      key = decodeURIComponent(key);
    } catch {
      // url.PathUnescape fails: the real server keeps the raw key
    }
    for (const v of vals) {
      (extra[key] ??= []).push(v);
      requests.push({ kind: 'UserExtra', name: v, extraKey: key });
    }
  }
  const uid = uids[0];
  if (uid !== undefined) requests.push({ kind: 'UID', name: uid });

  if (requests.length === 0) return { user: caller, impersonated: false };
  if (username === undefined) {
    const cause = `requested [${requests.map(goObjectRef).join(' ')}] without impersonating a user`;
    throw StatusError.of(500, 'InternalError', `Internal error occurred: ${cause}`, { causes: [{ message: cause }] });
  }
  if (!mayImpersonate(caller)) throw forbidden(caller, requests[0] as ImpersonationRequest);

  let finalGroups = [...groups];
  if (saNamespace !== undefined && groups.length === 0) finalGroups = ['system:serviceaccounts', `system:serviceaccounts:${saNamespace}`];
  if (username !== 'system:anonymous') {
    if (!finalGroups.includes('system:authenticated') && !finalGroups.includes('system:unauthenticated')) finalGroups.push('system:authenticated');
  } else if (!finalGroups.includes('system:unauthenticated')) {
    finalGroups.push('system:unauthenticated');
  }
  const user: UserInfo = { username, groups: finalGroups };
  if (uid !== undefined) user.uid = uid;
  if (Object.keys(extra).length > 0) user.extra = extra;
  return { user, impersonated: true };
}

/** Header names the impersonation filter consumes (removed before the request goes on). */
export function isImpersonationHeader(name: string): boolean {
  const n = name.toLowerCase();
  return n === USER || n === GROUP || n === UID || n.startsWith(EXTRA_PREFIX);
}

