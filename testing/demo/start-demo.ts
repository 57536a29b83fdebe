/**
 * startDemo: the demo world on loopback. Starts the real identity provider (testing/oidc) and
 * the Kubernetes API emulator (seed "demo") trusting its tokens, then writes a fresh demo folder:
 *
 *   kubeconfig-<user>  one per demo identity; kubectl runs `bin/sluice demo token <user>
 *                      --exec-credential --demo-dir <dir>` as its exec credential plugin
 *   ca.crt             CA bundle of the demo world (identity provider and Kubernetes API)
 *   demo.json          issuer, ports, client ids, the ci-bot secret, the CA path (./demo-state.ts)
 *
 * The kubeconfigs point at the emulator for now; once the gateway exists they point at it.
 * Server code is imported lazily so that `sluice demo token` (which loads this package's
 * index) does not load the identity provider or the emulator.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Emulator } from '../kube-emulator/index.ts';
import type { IdentityProvider } from '../oidc/provider.ts';
import { writeKubeconfig } from '../harness/kubeconfig.ts';
import { emulatorOidcOptions } from '../harness/emulator-oidc.ts';
import { DEMO_STATE_FILE, writeDemoState, type DemoState } from './demo-state.ts';
import { DEMO_USERS, formatDemoUsers } from './users.ts';

/** The repository root (this file is testing/demo/start-demo.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');

/** Default demo folder: `.sluice/demo` under the repository. */
export const DEFAULT_DEMO_DIR = join(REPO_ROOT, '.sluice', 'demo');

export interface StartDemoOptions {
  /** Demo folder; emptied and recreated (default `.sluice/demo` under the repository). */
  dir?: string;
  /** Address the listeners bind to (default 127.0.0.1). */
  host?: string;
  /** 0 or omitted picks a free port. */
  identityProviderPort?: number;
  /** 0 or omitted picks a free port. */
  kubernetesPort?: number;
  log?: Logger;
  /** Exec plugin command written into the kubeconfigs (default: absolute path of bin/sluice). */
  sluiceCommand?: string;
}

export interface DemoWorld {
  dir: string;
  issuer: string;
  emulatorUrl: string;
  idp: IdentityProvider;
  emulator: Emulator;
  state: DemoState;
  /** Kubeconfig path per identity name. */
  kubeconfigs: Record<string, string>;
  /** Human-readable summary: endpoints, identities, kubeconfigs, a first command to try. */
  summary(): string;
  close(): Promise<void>;
}

/** Empty `dir` for a fresh start, refusing to wipe a folder that is not a demo folder. */
async function freshDir(dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => undefined);
  if (entries && entries.length > 0 && !entries.includes(DEMO_STATE_FILE)) {
    throw new Error(`refusing to empty ${dir}: it is not empty and holds no ${DEMO_STATE_FILE} (not a demo folder)`);
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

export async function startDemo(opts: StartDemoOptions = {}): Promise<DemoWorld> {
  const dir = resolve(opts.dir ?? DEFAULT_DEMO_DIR);
  const host = opts.host ?? '127.0.0.1';
  const sluice = opts.sluiceCommand ?? join(REPO_ROOT, 'bin', 'sluice');
  await freshDir(dir);

  const [{ startIdentityProvider }, { startEmulator }, { createDevCa }] = await Promise.all([
    import('../oidc/provider.ts'),
    import('../kube-emulator/index.ts'),
    import('../../src/tls/dev-ca.ts'),
  ]);
  const ca = await createDevCa({ commonName: 'Sluice demo CA' });
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    closers.length = 0;
  };

  try {
    const idp = await startIdentityProvider({ ca, host, port: opts.identityProviderPort ?? 0 });
    closers.push(() => idp.close());
    opts.log?.info({ issuer: idp.issuer }, 'demo identity provider started');

    // One CA for the whole demo world: the emulator's certificate comes from the same CA.
    const ips = [...new Set(['127.0.0.1', '::1', ...(isIP(host) ? [host] : [])])];
    const dnsNames = [...new Set(['localhost', ...(isIP(host) ? [] : [host])])];
    const emulatorTls = await ca.issue({ commonName: 'sluice-demo-kubernetes', dnsNames, ips });
    const emulator = await startEmulator({
      seed: 'demo',
      host,
      tls: { ...emulatorTls, ca: ca.cert },
      port: opts.kubernetesPort ?? 0,
      oidc: emulatorOidcOptions(idp),
    });
    closers.push(() => emulator.close());
    opts.log?.info({ url: emulator.url }, 'demo Kubernetes API (emulator) started');

    const caBundle = [...new Set([idp.caCert.trim(), emulator.caCert.trim()])].join('\n') + '\n';
    const caFile = join(dir, 'ca.crt');
    await writeFile(caFile, caBundle, { mode: 0o644 });

    const kubeconfigs: Record<string, string> = {};
    for (const user of DEMO_USERS) {
      kubeconfigs[user.name] = await writeKubeconfig({
        path: join(dir, `kubeconfig-${user.name}`),
        server: emulator.url,
        caCert: emulator.caCert,
        user: user.name,
        cluster: 'sluice-demo',
        exec: { command: sluice, args: ['demo', 'token', user.name, '--exec-credential', '--demo-dir', dir] },
      });
    }

    const state: DemoState = {
      version: 1,
      startedAt: new Date().toISOString(),
      pid: process.pid,
      identityProvider: {
        issuer: idp.issuer,
        port: idp.port,
        caFile,
        audience: idp.audience,
        publicClientId: idp.publicClientId,
        password: idp.password,
        machineClients: idp.machineClients,
      },
      kubernetes: { url: emulator.url, port: emulator.port },
      users: DEMO_USERS.map((u) => ({ name: u.name, kind: u.kind, groups: [...u.groups], kubeconfig: kubeconfigs[u.name] ?? '' })),
    };
    await writeDemoState(dir, state);
    opts.log?.info({ dir }, 'demo folder written');

    return {
      dir,
      issuer: idp.issuer,
      emulatorUrl: emulator.url,
      idp,
      emulator,
      state,
      kubeconfigs,
      summary: () =>
        [
          `identity provider: ${idp.issuer}  (people log in with password "${idp.password}")`,
          `kubernetes API:    ${emulator.url}  (emulator, seed "demo")`,
          `CA bundle:         ${caFile}`,
          '',
          ...formatDemoUsers(),
          '',
          ...DEMO_USERS.map((u) => `kubeconfig-${u.name.padEnd(8)} ${kubeconfigs[u.name] ?? ''}`),
          '',
          `try: kubectl --kubeconfig ${kubeconfigs.bob ?? join(dir, 'kubeconfig-bob')} get pods -n dev`,
          '',
        ].join('\n'),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
