/**
 * demoToken: a fresh access token for a demo identity from the running demo identity provider,
 * as `sluice demo token <user>` prints it. People go through the authorization-code + PKCE
 * flow (the provider's own login form, posted by the program); the machine identity uses the
 * client-credentials grant with the secret recorded in demo.json. Loads no server code.
 */
import { readFile } from 'node:fs/promises';
import { fetchClientCredentialsToken } from '../oidc/client-credentials.ts';
import type { TokenSet } from '../oidc/constants.ts';
import { loginWithPassword } from '../oidc/login-flow.ts';
import { readDemoState } from './demo-state.ts';
import { execCredential } from './exec-credential.ts';
import { SluiceError } from '../../src/core/errors.ts';

export interface DemoTokenOptions {
  /** Print a client.authentication.k8s.io/v1 ExecCredential (JSON) instead of the bare token. */
  execCredential?: boolean;
  /** Audience; the demo's default (sluice) when omitted. */
  audience?: string;
}

function unreachable(err: unknown): boolean {
  const codes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH']);
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (codes.has((e as NodeJS.ErrnoException).code ?? '')) return true;
  }
  return false;
}

/** Obtain the token set for `user` from the demo recorded in `dir`. */
export async function demoTokens(dir: string, user: string, opts: Pick<DemoTokenOptions, 'audience'> = {}): Promise<TokenSet> {
  const state = await readDemoState(dir);
  const idp = state.identityProvider;
  const entry = state.users.find((u) => u.name === user);
  if (!entry) throw new SluiceError('DEMO_UNKNOWN_USER', `unknown demo user "${user}"; known: ${state.users.map((u) => u.name).join(', ')}`);
  const caCert = await readFile(idp.caFile, 'utf8');
  const audience = opts.audience ? { audience: opts.audience } : {};
  try {
    if (entry.kind === 'machine') {
      const client = idp.machineClients.find((m) => m.clientId === user);
      if (!client) throw new Error(`demo.json has no client secret for ${user}`);
      return await fetchClientCredentialsToken({ issuer: idp.issuer, caCert, clientId: client.clientId, clientSecret: client.clientSecret, ...audience });
    }
    return await loginWithPassword({ issuer: idp.issuer, caCert, clientId: idp.publicClientId, username: user, password: idp.password, ...audience });
  } catch (err) {
    if (unreachable(err)) {
      throw new SluiceError('DEMO_NOT_RUNNING', `the demo identity provider at ${idp.issuer} is not reachable: is \`sluice demo\` still running (state in ${dir})?`, { cause: String(err) });
    }
    throw err;
  }
}

/** The bare access token, or an ExecCredential as JSON with `execCredential`. */
export async function demoToken(dir: string, user: string, opts: DemoTokenOptions = {}): Promise<string> {
  const tokens = await demoTokens(dir, user, opts.audience ? { audience: opts.audience } : {});
  return opts.execCredential ? JSON.stringify(execCredential(tokens.accessToken, tokens.expiresAt)) : tokens.accessToken;
}
