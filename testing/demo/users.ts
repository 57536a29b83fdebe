/**
 * The demo world's identities: four people who log in through the authorization-code flow and
 * one machine identity that uses the client-credentials grant. The identity provider
 * (testing/oidc), the demo folder (testing/demo), the docs and `sluice demo` all read this one
 * table, so what is printed is what is issued.
 */

/** One identity in the demo world. */
export interface DemoUser {
  /** Login name; also the token's `sub` and `preferred_username` (for a machine: its client_id). */
  name: string;
  /** Values of the `groups` claim; empty means the claim is left out of the tokens. */
  groups: string[];
  /** `person`: logs in with a password (code + PKCE); `machine`: client-credentials grant. */
  kind: 'person' | 'machine';
  /** One line for tables and help text. */
  description: string;
  /** Email claim (people only). */
  email?: string;
}

/** Password every demo person logs in with. A demo, not a secret. */
export const DEMO_PASSWORD = 'sluice-demo';

/** The demo people and machines. */
export const DEMO_USERS: readonly DemoUser[] = Object.freeze([
  {
    name: 'alice',
    groups: ['sre', 'approvers'],
    kind: 'person',
    description: 'SRE on call; may approve risky operations',
    email: 'alice@demo.sluice.test',
  },
  {
    name: 'bob',
    groups: ['developers'],
    kind: 'person',
    description: 'Developer; works in the dev namespace',
    email: 'bob@demo.sluice.test',
  },
  {
    name: 'carol',
    groups: ['approvers'],
    kind: 'person',
    description: 'Team lead; approves but does not operate',
    email: 'carol@demo.sluice.test',
  },
  {
    name: 'mallory',
    groups: [],
    kind: 'person',
    description: 'Authenticated, but in no group: should be denied almost everything',
    email: 'mallory@demo.sluice.test',
  },
  {
    name: 'ci-bot',
    groups: ['automation'],
    kind: 'machine',
    description: 'CI pipeline; client-credentials grant with a client secret',
  },
]);

/** Look up a demo identity by name (undefined when unknown). */
export function findDemoUser(name: string, users: readonly DemoUser[] = DEMO_USERS): DemoUser | undefined {
  return users.find((u) => u.name === name);
}

/** The table as aligned text lines (header first), for `sluice demo` and docs. */
export function formatDemoUsers(users: readonly DemoUser[] = DEMO_USERS): string[] {
  const rows = [
    ['NAME', 'KIND', 'GROUPS', 'DESCRIPTION'],
    ...users.map((u) => [u.name, u.kind, u.groups.join(',') || '-', u.description]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell)).join('  ').trimEnd());
}
