/**
 * A fresh access token for a demo identity from the real identity provider: people through the
 * authorization-code + PKCE flow, machines (ci-bot) through the client-credentials grant.
 */
import { DEMO_USERS, findDemoUser } from '../demo/users.ts';
import type { IdentityProvider } from '../oidc/provider.ts';

export async function idpTokenFor(idp: IdentityProvider, user: string): Promise<string> {
  const known = findDemoUser(user);
  if (!known) throw new Error(`unknown identity "${user}"; known: ${DEMO_USERS.map((u) => u.name).join(', ')}`);
  if (known.kind === 'person') return idp.tokenFor(user);
  const machine = idp.machineClients.find((m) => m.clientId === user);
  if (!machine) throw new Error(`no client registered for machine identity ${user}`);
  return idp.clientCredentialsToken(machine.clientId, machine.clientSecret);
}
