/**
 * Text rendering of approvals for `sluice approvals` and `sluice access` (pure; tested through
 * the CLI). Short aligned lines for people; `-o json` prints the API's JSON instead.
 */
import type { ApprovalEventJson, ApprovalJson, RoleJson } from '../control/wire-types.ts';
import { formatTable } from './audit-format.ts';

/** `1h30m`, `30m`, `45s`: the policy language's duration syntax. */
export function formatSpan(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d${h ? `${h}h` : ''}`;
  if (h > 0) return `${h}h${m ? `${m}m` : ''}`;
  if (m > 0) return `${m}m${sec ? `${sec}s` : ''}`;
  return `${sec}s`;
}

/** Coarse age for tables: `12s`, `5m`, `3h`, `2d`. */
function age(iso: string, now: Date): string {
  const s = Math.max(0, Math.floor((now.getTime() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** `in 9m` or `3m ago`. */
function relative(iso: string, now: Date): string {
  const ms = Date.parse(iso) - now.getTime();
  return ms >= 0 ? `in ${formatSpan(ms)}` : `${formatSpan(-ms)} ago`;
}

/** What is asked for: `delete pods/web-1 -n prod @demo` or `role prod-write 30m`. */
export function describeWhat(a: ApprovalJson): string {
  if (a.kind === 'grant') return `role ${a.grant?.role ?? '?'} ${a.grant ? formatSpan(a.grant.durationMs) : ''}`.trimEnd();
  const r = a.request;
  if (!r) return a.message;
  const at = a.connection ? ` @${a.connection}` : '';
  const x = r.attributes;
  if (!x?.isResourceRequest) return `${x?.verb ?? r.method.toLowerCase()} ${r.path}${at}`;
  const resource = `${x.resource}${x.apiGroup ? `.${x.apiGroup}` : ''}${x.name ? `/${x.name}` : ''}${x.subresource ? `/${x.subresource}` : ''}`;
  return `${x.verb} ${resource}${x.namespace ? ` -n ${x.namespace}` : ''}${at}`;
}

/** Approve votes so far / approvals needed (all requirements together). */
export function votesSummary(a: ApprovalJson): string {
  const got = a.votes.filter((v) => v.vote === 'approve').length;
  const need = a.requirements.reduce((n, r) => n + r.minApprovals, 0);
  return `${got}/${need}`;
}

/** When it ends: a pending or approved request expires; an approved grant is active until… */
function expiry(a: ApprovalJson, now: Date): string {
  if (a.kind === 'grant' && a.state === 'approved' && a.grant?.activeUntil) return `active, ${relative(a.grant.activeUntil, now).replace(/^in /, '')} left`;
  if (a.state === 'pending' || a.state === 'approved') return relative(a.expiresAt, now);
  return '-';
}

export const APPROVAL_COLUMNS = ['ID', 'AGE', 'REQUESTER', 'WHAT', 'STATE', 'APPROVALS', 'DECIDE', 'EXPIRES'] as const;

/** The table of `sluice approvals`; DECIDE says `you` when the caller may approve or deny. */
export function formatApprovalTable(list: readonly ApprovalJson[], now: Date): string {
  return formatTable(
    APPROVAL_COLUMNS,
    list.map((a) => [a.id.slice(0, 8), age(a.createdAt, now), a.requester.username, describeWhat(a), a.state, votesSummary(a), a.canDecide ? 'you' : '-', expiry(a, now)]),
  );
}

export const GRANT_COLUMNS = ['ID', 'ROLE', 'DURATION', 'STATE', 'ACTIVE UNTIL', 'REQUESTED', 'REASON'] as const;

/** The table of `sluice access list`. */
export function formatGrantTable(list: readonly ApprovalJson[], now: Date): string {
  return formatTable(
    GRANT_COLUMNS,
    list.map((a) => [
      a.id.slice(0, 8),
      a.grant?.role ?? '?',
      a.grant ? formatSpan(a.grant.durationMs) : '-',
      a.state,
      a.grant?.activeUntil && a.state === 'approved' ? `${a.grant.activeUntil.replace(/\.\d{3}Z$/, 'Z')} (${relative(a.grant.activeUntil, now)})` : '-',
      `${age(a.createdAt, now)} ago`,
      a.reason ?? '-',
    ]),
  );
}

export const ROLE_COLUMNS = ['ROLE', 'MAX DURATION', 'REQUESTABLE BY', 'DESCRIPTION'] as const;

export function formatRoleTable(roles: readonly RoleJson[]): string {
  return formatTable(
    ROLE_COLUMNS,
    roles.map((r) => [r.name, formatSpan(r.maxDurationMs), r.requestableBy, r.description ?? '']),
  );
}

const who = (p: { username: string; groups: string[] }): string => `${p.username}${p.groups.length ? ` (${p.groups.join(', ')})` : ''}`;
const when = (iso: string, now: Date): string => `${iso.replace(/\.\d{3}Z$/, 'Z')} (${relative(iso, now)})`;

/** Everything about one approval, `key: value` lines with indented blocks. */
export function formatApprovalDetails(a: ApprovalJson, now: Date): string {
  const lines: [string, string][] = [];
  const add = (k: string, v: string | undefined): void => {
    if (v !== undefined) lines.push([k, v]);
  };
  add('id', a.id);
  add('kind', a.kind);
  add('state', a.state);
  add('what', describeWhat(a));
  add('requester', who(a.requester));
  add('created', when(a.createdAt, now));
  add(a.state === 'pending' || a.state === 'approved' ? 'expires' : 'expiry', when(a.expiresAt, now));
  if (a.decidedAt) add('decided', when(a.decidedAt, now));
  if (a.connection) add('connection', a.connection);
  add('rules', a.rules.join(', ') || '-');
  add('message', a.message);
  add('reason', a.reason ?? (a.requireReason ? '(none yet: approvers are asked once the requester gives one)' : '(none)'));
  add('you can decide', a.canDecide ? 'yes' : 'no');
  if (a.grant) {
    add('role', a.grant.role);
    add('duration', formatSpan(a.grant.durationMs));
    if (a.grant.activeUntil) add('active until', when(a.grant.activeUntil, now));
  }
  if (a.spentAt) add('spent', `${when(a.spentAt, now)}${a.spentBy ? ` by request ${a.spentBy}` : ''}`);
  if (a.revokedBy) add('revoked by', `${a.revokedBy.username}${a.revokeReason ? `: ${a.revokeReason}` : ''}`);

  const width = Math.max(...lines.map(([k]) => k.length)) + 1;
  const out = lines.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}`);

  out.push('requirements:');
  for (const r of a.requirements) out.push(`  ${r.ruleId}: ${r.minApprovals} approval${r.minApprovals === 1 ? '' : 's'} from ${r.approvers.join(', ')}`);
  out.push(`votes: ${a.votes.length ? votesSummary(a) : '(none)'}`);
  for (const v of a.votes) out.push(`  ${v.at.replace(/\.\d{3}Z$/, 'Z')}  ${v.vote.padEnd(7)}  ${v.approver.username}${v.reason ? `: ${v.reason}` : ''}`);

  const r = a.request;
  if (r) {
    out.push('request:');
    out.push(`  ${r.method} ${r.path}${r.query ? `?${r.query}` : ''}`);
    const fields: [string, string][] = [];
    const x = r.attributes as unknown as Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(x ?? {})) if (v !== undefined && v !== '') fields.push([k, String(v)]);
    if (r.contentType) fields.push(['content-type', r.contentType]);
    if (r.bodySha256) fields.push(['body sha256', r.bodySha256]);
    fields.push(['first request', r.firstRequestId]);
    const w = Math.max(...fields.map(([k]) => k.length)) + 1;
    for (const [k, v] of fields) out.push(`  ${`${k}:`.padEnd(w)} ${v}`);
    if (r.body !== undefined) {
      out.push('  body (secrets masked):');
      for (const l of r.body.split('\n')) out.push(`    ${l}`);
    }
  }
  return out.join('\n') + '\n';
}

/** One line per event for `--watch`: time, event, id, requester, what, state, votes, actor. */
export function formatEventLine(e: ApprovalEventJson): string {
  const a = e.approval;
  const time = e.at.slice(11, 19);
  const event = e.type.replace(/^approval\./, '');
  const by = e.actor && e.actor.username !== a.requester.username ? `  by ${e.actor.username}` : '';
  const you = a.canDecide ? '  (you can decide)' : '';
  return `${time}  ${event.padEnd(9)}  ${a.id.slice(0, 8)}  ${a.requester.username}  ${describeWhat(a)}  ${a.state} ${votesSummary(a)}${by}${you}\n`;
}
