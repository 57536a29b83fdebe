/**
 * The identity provider's own interaction pages (oidc-provider leaves login and consent to the
 * host): `GET /interaction/:uid` shows a real HTML login form (or, for the consent prompt,
 * grants consent to the first-party client and moves on); `POST /interaction/:uid/login` takes
 * `login` and `password` as a form post — a browser submits it, and so does the programmatic
 * login in ./login-flow.ts — and finishes the interaction so the authorization request resumes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { DemoUser } from '../demo/users.ts';
import { escapeHtml } from './configuration.ts';

export interface InteractionOptions {
  provider: Provider;
  users: readonly DemoUser[];
  password: string;
  /** Clients whose consent is implied. */
  firstPartyClients: ReadonlySet<string>;
}

const MAX_FORM_BYTES = 16 * 1024;

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_FORM_BYTES) throw new Error('form too large');
    chunks.push(buf);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
  });
  res.end(html);
}

function loginPage(uid: string, people: readonly DemoUser[], opts: { clientId: string; error?: string; login?: string }): string {
  const rows = people
    .map((u) => `<tr><td><code>${escapeHtml(u.name)}</code></td><td>${escapeHtml(u.groups.join(', ') || '—')}</td><td>${escapeHtml(u.description)}</td></tr>`)
    .join('');
  const error = opts.error ? `<p class="error" role="alert">${escapeHtml(opts.error)}</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in — Sluice demo identity provider</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}
label{display:block;margin:.75rem 0 .25rem}input{font-size:1rem;padding:.4rem;width:16rem}
button{margin-top:1rem;font-size:1rem;padding:.4rem 1.2rem}.error{color:#b00020}
table{border-collapse:collapse;margin-top:2rem}td{padding:.2rem .6rem;border-top:1px solid #ddd}</style></head>
<body><h1>Sign in</h1><p>to <b>${escapeHtml(opts.clientId)}</b> through the Sluice demo identity provider.</p>${error}
<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
<label for="login">User name</label><input id="login" name="login" required autofocus value="${escapeHtml(opts.login ?? '')}">
<label for="password">Password</label><input id="password" name="password" type="password" required>
<div><button type="submit">Sign in</button></div></form>
<form method="post" action="/interaction/${escapeHtml(uid)}/abort"><button type="submit">Cancel</button></form>
<table><caption>Demo people</caption>${rows}</table></body></html>`;
}

/** Returns a handler for `/interaction/...` requests, or false when the path is not one. */
export function createInteractionHandler(opts: InteractionOptions) {
  const { provider } = opts;
  const people = opts.users.filter((u) => u.kind === 'person');

  async function consentResult(details: Awaited<ReturnType<Provider['interactionDetails']>>): Promise<InteractionResults> {
    const { prompt, params, session, grantId: existing } = details;
    const accountId = session?.accountId;
    if (!accountId) throw new Error('consent prompt without a logged-in account');
    const clientId = String(params.client_id);
    const grant = existing
      ? await provider.Grant.find(existing)
      : new provider.Grant({ accountId, clientId });
    if (!grant) throw new Error('grant vanished');
    const d = prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    return { consent: { grantId: await grant.save() } };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?$/.exec(path);
    if (!match) return sendHtml(res, 404, '<!doctype html><h1>Not found</h1>');
    const [, uid = '', action] = match;
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) return sendHtml(res, 400, '<!doctype html><h1>Interaction mismatch</h1>');
    const clientId = String(details.params.client_id);

    if (req.method === 'GET' && !action) {
      if (details.prompt.name === 'login') return sendHtml(res, 200, loginPage(uid, people, { clientId }));
      if (details.prompt.name === 'consent' && opts.firstPartyClients.has(clientId)) {
        return provider.interactionFinished(req, res, await consentResult(details), { mergeWithLastSubmission: true });
      }
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'consent required' });
    }
    if (req.method === 'POST' && action === 'abort') {
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'sign-in cancelled' });
    }
    if (req.method === 'POST' && action === 'login') {
      if (details.prompt.name !== 'login') return sendHtml(res, 400, '<!doctype html><h1>No login pending</h1>');
      const form = await readForm(req);
      const login = form.get('login')?.trim() ?? '';
      const user = people.find((u) => u.name === login);
      if (!user || form.get('password') !== opts.password) {
        return sendHtml(res, 401, loginPage(uid, people, { clientId, login, error: 'Unknown user or wrong password.' }));
      }
      return provider.interactionFinished(req, res, { login: { accountId: user.name } }, { mergeWithLastSubmission: false });
    }
    res.setHeader('allow', 'GET, POST');
    return sendHtml(res, 405, '<!doctype html><h1>Method not allowed</h1>');
  }

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = new URL(req.url ?? '/', 'https://idp.invalid').pathname;
    if (!path.startsWith('/interaction/')) return false;
    handle(req, res, path).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      if (!res.headersSent) sendHtml(res, 400, `<!doctype html><h1>Sign-in failed</h1><p>${escapeHtml(message)}</p>`);
      else res.destroy();
    });
    return true;
  };
}
