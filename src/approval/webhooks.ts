/**
 * Outgoing approval webhooks: tell Slack (or any HTTP receiver) when an approval changes, so
 * approvers learn about a held request without watching the console.
 *
 * Why it looks like this:
 * - Delivery never blocks the approval service: `deliver` starts the POSTs and returns; a slow or
 *   dead receiver costs at most three attempts (with backoff) of `timeout` each, and `close()`
 *   lets shutdown wait for what is in flight.
 * - `json` deliveries are signed like Stripe's (`Sluice-Signature: t=<unix>,v1=<hex HMAC-SHA256
 *   over "<t>.<body>">`), so a receiver can reject forged and replayed calls;
 *   `verifyWebhookSignature` is the receiver's half (constant-time, with a timestamp tolerance).
 * - `slack` messages carry only links to the console (approve/deny happen there, authenticated);
 *   Slack's interactivity callbacks would need an inbound endpoint and a Slack app. Everything a
 *   user controls (names, reasons, paths) is escaped, so a reason cannot inject `<@U123>` mentions
 *   or links.
 * - Redirects are never followed (a receiver must not bounce a signed approval elsewhere), and
 *   the hook URL is never logged: Slack webhook URLs are secrets themselves.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import type { WebhookSchema } from '../config/schema.ts';
import { SluiceError } from '../core/errors.ts';
import { VERSION } from '../core/version.ts';
import { durationMs } from '../core/duration.ts';
import type { Logger } from '../log/logger.ts';
import type { Approval, ApprovalEvent, ApprovalPerson } from './types.ts';

export type WebhookConfig = z.infer<typeof WebhookSchema>;

export interface WebhookDispatcher {
  /** Starts delivering `e` to every hook subscribed to `e.type`; returns at once. */
  deliver(e: ApprovalEvent): void;
  /** resolves when in-flight deliveries finished */
  close(): Promise<void>;
}

/** The outcome of one delivery (all its attempts) to one hook. */
export interface DeliveryResult {
  hook: string;
  event: string;
  approvalId: string;
  ok: boolean;
  /** HTTP status of the last attempt, when there was a response. */
  status?: number;
  attempts: number;
  error?: string;
}

export interface WebhookDispatcherOptions {
  /** Base URL of the web console (approvals.consoleUrl): Slack messages link there. */
  consoleUrl?: string;
  log: Logger;
  fetch?: typeof fetch;
  now?: () => Date;
  onResult?: (r: DeliveryResult) => void;
}

const MAX_ATTEMPTS = 3;
/** Wait before attempt 2 and attempt 3. */
const BACKOFF_MS = [500, 2000];


async function readSecret(hook: WebhookConfig): Promise<string | undefined> {
  if (!hook.secretFile) {
    if (hook.format === 'json') throw new SluiceError('CONFIG_INVALID', `webhook ${hook.name}: a json webhook needs secretFile`);
    return undefined;
  }
  let secret: string;
  try {
    secret = (await readFile(hook.secretFile, 'utf8')).trim();
  } catch (e) {
    throw new SluiceError('CONFIG_INVALID', `webhook ${hook.name}: cannot read secretFile ${hook.secretFile}`, { cause: (e as Error).message });
  }
  if (!secret) throw new SluiceError('CONFIG_INVALID', `webhook ${hook.name}: secretFile ${hook.secretFile} is empty`);
  return secret;
}

export async function createWebhookDispatcher(hooks: WebhookConfig[], opts: WebhookDispatcherOptions): Promise<WebhookDispatcher> {
  const prepared = await Promise.all(hooks.map(async (h) => ({ hook: h, secret: await readSecret(h), timeoutMs: durationMs(h.timeout) })));
  const doFetch = opts.fetch ?? globalThis.fetch;
  const now = opts.now ?? (() => new Date());
  const consoleUrl = opts.consoleUrl?.replace(/\/+$/, '');
  const inFlight = new Set<Promise<void>>();
  let closed = false;

  const report = (r: DeliveryResult): void => {
    if (r.ok) opts.log.info(r, 'webhook delivered');
    else opts.log.warn(r, 'webhook delivery failed');
    try {
      opts.onResult?.(r);
    } catch (e) {
      opts.log.error({ hook: r.hook, err: (e as Error).message }, 'webhook onResult callback threw');
    }
  };

  async function send(p: (typeof prepared)[number], e: ApprovalEvent): Promise<DeliveryResult> {
    const { hook, secret, timeoutMs } = p;
    const body = hook.format === 'slack' ? JSON.stringify(slackMessage(e, consoleUrl)) : jsonPayload(e);
    const deliveryId = randomUUID();
    const base = { hook: hook.name, event: e.type, approvalId: e.approval.id };
    let last: { status?: number; error?: string } = {};
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      if (attempt > 1) await sleep(BACKOFF_MS[attempt - 2] ?? 2000);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': `sluice/${VERSION}`,
        'sluice-event': e.type,
        'sluice-delivery': deliveryId,
      };
      // Signed per attempt: a retry carries a fresh timestamp, so it passes the receiver's tolerance.
      if (secret) headers['sluice-signature'] = signWebhook(secret, body, now());
      let retryable: boolean;
      try {
        const res = await doFetch(hook.url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
        await res.body?.cancel().catch(() => undefined);
        if (res.ok) return { ...base, ok: true, status: res.status, attempts: attempt };
        last = { status: res.status, error: res.status >= 300 && res.status < 400 ? `redirect (HTTP ${res.status}) not followed` : `HTTP ${res.status}` };
        retryable = res.status >= 500 || res.status === 429;
      } catch (err) {
        last = { error: fetchError(err, hook.timeout) };
        retryable = true;
      }
      if (!retryable) return { ...base, ok: false, ...last, attempts: attempt };
    }
    return { ...base, ok: false, ...last, attempts: MAX_ATTEMPTS };
  }

  return {
    deliver(e) {
      if (closed) {
        opts.log.warn({ event: e.type, approvalId: e.approval.id }, 'webhook dispatcher closed; event not delivered');
        return;
      }
      for (const p of prepared) {
        if (!p.hook.events.includes(e.type)) continue;
        const task = send(p, e)
          .catch((err: unknown): DeliveryResult => ({ hook: p.hook.name, event: e.type, approvalId: e.approval.id, ok: false, attempts: 0, error: (err as Error).message }))
          .then(report)
          .catch(() => undefined);
        inFlight.add(task);
        void task.finally(() => inFlight.delete(task));
      }
    },
    async close() {
      closed = true;
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
  };
}

/** A short reason for a failed fetch: the timeout, or the network error underneath undici's "fetch failed". */
function fetchError(err: unknown, timeout: string): string {
  const e = err as Error & { cause?: unknown };
  if (e?.name === 'TimeoutError') return `no answer within ${timeout}`;
  const cause = e?.cause instanceof Error ? e.cause.message : undefined;
  return cause ?? e?.message ?? String(err);
}

// ---------------------------------------------------------------------------------------------
// Signature

/** The `Sluice-Signature` header value for `body` at time `at`. */
export function signWebhook(secret: string, body: string | Uint8Array, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${hmac(secret, t, body)}`;
}

function hmac(secret: string, t: number, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
}

/**
 * Checks a `Sluice-Signature` header against the raw request body (exactly the bytes received).
 * False when the header is malformed, the timestamp is further than `toleranceSeconds` from now,
 * or no `v1` signature matches (compared in constant time).
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | null | undefined,
  body: string | Uint8Array,
  opts: { toleranceSeconds?: number; now?: () => Date } = {},
): boolean {
  if (!header) return false;
  let t: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const i = part.indexOf('=');
    const [k, v] = [part.slice(0, i).trim(), part.slice(i + 1).trim()];
    if (k === 't' && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === 'v1' && /^[0-9a-f]{64}$/i.test(v)) signatures.push(v.toLowerCase());
  }
  if (t === undefined || signatures.length === 0) return false;
  const nowSeconds = Math.floor((opts.now ?? (() => new Date()))().getTime() / 1000);
  if (Math.abs(nowSeconds - t) > (opts.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(hmac(secret, t, body), 'hex');
  let ok = false;
  for (const s of signatures) ok = timingSafeEqual(expected, Buffer.from(s, 'hex')) || ok;
  return ok;
}

// ---------------------------------------------------------------------------------------------
// json format

/** The JSON body: dates become ISO strings (Date#toJSON); everything in the approval is included. */
function jsonPayload(e: ApprovalEvent): string {
  return JSON.stringify({ type: e.type, at: e.at.toISOString(), approval: e.approval, actor: e.actor ?? null });
}

// ---------------------------------------------------------------------------------------------
// slack format (Block Kit, https://api.slack.com/block-kit)

/** Slack's three mrkdwn control characters; anything else in user text is shown as it is. */
export function escapeSlack(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escaped and capped (section text may hold 3000 characters, a field 2000). */
const text = (s: string, max = 1000): string => escapeSlack(s.length > max ? `${s.slice(0, max - 1)}…` : s);
const who = (p: ApprovalPerson | undefined): string => (p ? text(p.username || p.subject, 200) : 'someone');
const shortId = (a: Approval): string => text(a.id.length > 8 ? `${a.id.slice(0, 8)}…` : a.id, 20);

/** `1h30m` for people. */
function formatDuration(ms: number): string {
  const m = Math.round(ms / 60_000);
  if (m < 1) return `${Math.round(ms / 1000)}s`;
  const h = Math.floor(m / 60);
  return h ? `${h}h${m % 60 ? `${m % 60}m` : ''}` : `${m}m`;
}

/** Slack renders this in the reader's time zone, with the ISO time as fallback. */
const slackDate = (d: Date): string => `<!date^${Math.floor(d.getTime() / 1000)}^{date_short_pretty} {time}|${d.toISOString()}>`;

/** `delete pods/web-1 in prod on demo`, `asks for role prod-write for 30m`: what is asked (escaped). */
function what(a: Approval): string {
  if (a.kind === 'grant') return `role ${text(a.grant?.role ?? '?', 200)} for ${formatDuration(a.grant?.durationMs ?? 0)}`;
  const r = a.request?.attributes;
  const on = a.connection ? ` on ${text(a.connection, 200)}` : '';
  if (!r) return `${text(a.request?.method ?? 'request', 20)} ${text(a.request?.path ?? '', 500)}${on}`;
  if (!r.isResourceRequest) return `${text(r.verb, 50)} ${text(r.path, 500)}${on}`;
  const res = `${r.resource}${r.apiGroup ? `.${r.apiGroup}` : ''}${r.subresource ? `/${r.subresource}` : ''}${r.name ? `/${r.name}` : ''}`;
  return `${text(r.verb, 50)} ${text(res, 500)}${r.namespace ? ` in ${text(r.namespace, 200)}` : ''}${on}`;
}

const asks = (a: Approval): string => `${who(a.requester)} asks ${a.kind === 'grant' ? 'for' : 'to'} ${what(a)}`;

function lastVoteReason(a: Approval, actor: ApprovalPerson | undefined, vote: 'approve' | 'deny'): string | undefined {
  const v = [...a.votes].reverse().find((x) => x.vote === vote && (!actor || (x.approver.issuer === actor.issuer && x.approver.subject === actor.subject)));
  return v?.reason;
}

/** One line saying what happened (events other than `approval.requested`). */
function happened(e: ApprovalEvent): { emoji: string; line: string } {
  const a = e.approval;
  const by = who(e.actor);
  const because = (r: string | undefined): string => (r ? `: ${text(r, 1500)}` : '');
  switch (e.type) {
    case 'approval.approved':
      return {
        emoji: ':white_check_mark:',
        line: `approved by ${by}${because(lastVoteReason(a, e.actor, 'approve'))}${a.grant?.activeUntil ? ` — active until ${slackDate(a.grant.activeUntil)}` : ''}`,
      };
    case 'approval.denied':
      return { emoji: ':no_entry:', line: `denied by ${by}${because(lastVoteReason(a, e.actor, 'deny'))}` };
    case 'approval.expired':
      return { emoji: ':hourglass:', line: a.state === 'expired' && a.decidedAt ? `expired at ${slackDate(a.decidedAt)}` : 'expired' };
    case 'approval.spent':
      return { emoji: ':arrow_forward:', line: 'executed (the approval is spent)' };
    case 'approval.revoked':
      return { emoji: ':no_entry_sign:', line: `revoked by ${who(a.revokedBy ?? e.actor)}${because(a.revokeReason)}` };
    case 'approval.reason':
      return { emoji: ':speech_balloon:', line: `${by} gave a reason${because(a.reason)}` };
    case 'approval.vote': {
      const v = [...a.votes].reverse().find((x) => !e.actor || (x.approver.issuer === e.actor.issuer && x.approver.subject === e.actor.subject));
      const approvals = a.votes.filter((x) => x.vote === 'approve').length;
      const needed = a.requirements.reduce((n, r) => Math.max(n, r.minApprovals), 0);
      return { emoji: ':ballot_box_with_ballot:', line: `${by} voted ${v?.vote ?? ''}${because(v?.reason)} (${approvals} of ${needed} approvals)` };
    }
    default:
      return { emoji: ':information_source:', line: `${text(e.type, 100)}${e.actor ? ` by ${by}` : ''}` };
  }
}

type Block = Record<string, unknown>;
const mrkdwn = (t: string): Block => ({ type: 'mrkdwn', text: t });
const section = (t: string): Block => ({ type: 'section', text: mrkdwn(t) });

/** A Slack incoming-webhook message (`text` is the notification fallback, `blocks` the message). */
export function slackMessage(e: ApprovalEvent, consoleUrl?: string): { text: string; blocks: Block[] } {
  const a = e.approval;
  const ref = `approval ${shortId(a)}`;
  const context: Block = { type: 'context', elements: [mrkdwn(`approval \`${text(a.id, 100)}\`${a.rules.length ? ` · rules ${text(a.rules.join(', '), 500)}` : ''}`)] };

  if (e.type !== 'approval.requested') {
    const h = happened(e);
    return {
      text: `${asks(a)} — ${ref} ${h.line}`,
      blocks: [section(`${h.emoji} *${asks(a)}* — ${h.line}`), context],
    };
  }

  const fields: Block[] = [mrkdwn(`*Requester*\n${who(a.requester)}`)];
  if (a.kind === 'grant') {
    fields.push(mrkdwn(`*Role*\n${text(a.grant?.role ?? '?', 200)}`), mrkdwn(`*Duration*\n${formatDuration(a.grant?.durationMs ?? 0)}`));
  } else {
    const r = a.request?.attributes;
    fields.push(mrkdwn(`*Connection*\n${text(a.connection || '-', 200)}`));
    if (r) {
      fields.push(mrkdwn(`*Verb*\n${text(r.verb, 50)}`));
      if (r.isResourceRequest) {
        const res = `${r.resource}${r.apiGroup ? `.${r.apiGroup}` : ''}${r.subresource ? `/${r.subresource}` : ''}`;
        fields.push(mrkdwn(`*Resource*\n${text(res, 300)}`), mrkdwn(`*Namespace*\n${text(r.namespace || '-', 200)}`), mrkdwn(`*Name*\n${text(r.name || '-', 300)}`));
      } else {
        fields.push(mrkdwn(`*Path*\n${text(r.path, 500)}`));
      }
    } else if (a.request) {
      fields.push(mrkdwn(`*Request*\n${text(`${a.request.method} ${a.request.path}`, 500)}`));
    }
  }
  fields.push(mrkdwn(`*Expires*\n${slackDate(a.expiresAt)}`));

  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: a.kind === 'grant' ? 'Access requested' : 'Approval requested' } },
    { type: 'section', text: mrkdwn(`*${asks(a)}*`), fields },
  ];
  if (a.message) blocks.push(section(`*Rule:* ${text(a.message, 1500)}`));
  if (a.reason) blocks.push(section(`*Reason:* ${text(a.reason, 2500)}`));
  else if (a.requireReason) blocks.push(section('_Waiting for the requester to give a reason._'));
  if (consoleUrl) {
    const link = (action: string): string => `${consoleUrl}/approvals/${encodeURIComponent(a.id)}?action=${action}`;
    blocks.push({
      type: 'actions',
      elements: [
        { type: 'button', action_id: 'approve', style: 'primary', text: { type: 'plain_text', text: 'Approve' }, url: link('approve') },
        { type: 'button', action_id: 'deny', style: 'danger', text: { type: 'plain_text', text: 'Deny' }, url: link('deny') },
      ],
    });
  }
  blocks.push(context);
  return { text: `${asks(a)} — ${ref}`, blocks };
}
