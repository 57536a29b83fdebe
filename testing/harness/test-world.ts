/**
 * startTestWorld: the pieces an end-to-end test needs, started together and stopped together —
 * the real identity provider (testing/oidc) and the Kubernetes API emulator configured to trust
 * its tokens the way kube-apiserver does with --oidc-issuer-url/--oidc-client-id/
 * --oidc-username-claim/--oidc-groups-claim — plus kubeconfigs per demo identity.
 *
 * With `oidc: false` no identity provider runs; each identity gets a random static token that
 * the emulator maps to the same user and groups.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../kube-emulator/index.ts';
import { DEMO_USERS, findDemoUser } from '../demo/users.ts';
import { startIdentityProvider, type IdentityProvider } from '../oidc/provider.ts';
import { emulatorOidcOptions } from './emulator-oidc.ts';
import { idpTokenFor } from './idp-token.ts';
import { writeKubeconfig } from './kubeconfig.ts';

export interface TestWorldOptions {
  /** Run the identity provider and have the emulator verify its JWTs (default true). */
  oidc?: boolean;
  /** Emulator seed (default "demo"). */
  seed?: 'demo' | 'empty';
  /** Folder for kubeconfigs; a fresh temp folder (removed by stop) when omitted. */
  dir?: string;
}

export interface TestWorld {
  dir: string;
  emulator: Emulator;
  idp?: IdentityProvider;
  /** A bearer token for a demo identity ("admin" is the emulator's cluster-admin). */
  tokenFor(user: string): Promise<string>;
  /** Write `kubeconfig-<user>` with a fresh static token for that identity; returns its path. */
  kubeconfigFor(user: string, opts?: { namespace?: string }): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestWorld(opts: TestWorldOptions = {}): Promise<TestWorld> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'sluice-world-')));
  const closers: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    closers.length = 0;
    if (ownDir) await rm(dir, { recursive: true, force: true });
  };

  try {
    const idp = opts.oidc === false ? undefined : await startIdentityProvider();
    if (idp) closers.push(() => idp.close());
    const emulator = await startEmulator({ seed: opts.seed ?? 'demo', ...(idp ? { oidc: emulatorOidcOptions(idp) } : {}) });
    closers.push(() => emulator.close());

    const staticTokens = new Map<string, string>();
    const tokenFor = async (user: string): Promise<string> => {
      if (user === 'admin') return emulator.adminToken;
      const known = findDemoUser(user);
      if (!known) throw new Error(`unknown identity "${user}"; known: admin, ${DEMO_USERS.map((u) => u.name).join(', ')}`);
      if (!idp) {
        let token = staticTokens.get(user);
        if (!token) {
          token = randomBytes(24).toString('base64url');
          emulator.addToken(token, { username: known.name, groups: [...known.groups] });
          staticTokens.set(user, token);
        }
        return token;
      }
      return idpTokenFor(idp, user);
    };

    return {
      dir,
      emulator,
      ...(idp ? { idp } : {}),
      tokenFor,
      kubeconfigFor: async (user, o = {}) =>
        writeKubeconfig({
          path: join(dir, `kubeconfig-${user}`),
          server: emulator.url,
          caCert: emulator.caCert,
          user,
          token: await tokenFor(user),
          ...(o.namespace ? { namespace: o.namespace } : {}),
        }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
