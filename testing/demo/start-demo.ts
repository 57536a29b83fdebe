/**
 * startDemo: the demo world on loopback. Starts the real identity provider (testing/oidc), the
 * Kubernetes API emulator (seed "demo") and the Sluice gateway in front of it with the demo
 * policy (testing/harness/gateway-world.ts), then writes a fresh demo folder:
 *
 *   kubeconfig-<user>  one per demo identity; kubectl runs `bin/sluice demo token <user>
 *                      --exec-credential --demo-dir <dir>` as its exec credential plugin
 *   ca.crt             CA of the demo world (identity provider, gateway, emulator)
 *   sluice.db          the audit trail (bin/sluice audit list --db <dir>/sluice.db)
 *   demo.json          issuer, ports, client ids, the ci-bot secret, the CA path, the gateway's
 *                      URL for `sluice approvals`/`sluice access` (./demo-state.ts)
 *
 * The kubeconfigs point at the gateway; the emulator trusts only the gateway's service account.
 * Server code is imported lazily so that `sluice demo token` (which loads this package's
 * index) does not load the identity provider or the emulator.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Emulator } from '../kube-emulator/index.ts';
import type { IdentityProvider } from '../oidc/provider.ts';
import type { GatewayWorld } from '../harness/gateway-world.ts';
import { writeKubeconfig } from '../harness/kubeconfig.ts';
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
  /** Port of the emulator; 0 or omitted picks a free port. */
  kubernetesPort?: number;
  /** Port of the Sluice gateway; 0 or omitted picks a free port. */
  gatewayPort?: number;
  log?: Logger;
  /** Exec plugin command written into the kubeconfigs (default: absolute path of bin/sluice). */
  sluiceCommand?: string;
}

export interface DemoWorld {
  dir: string;
  issuer: string;
  emulatorUrl: string;
  /** Server URL of the demo connection at the gateway (what the kubeconfigs use). */
  gatewayUrl: string;
  idp: IdentityProvider;
  emulator: Emulator;
  world: GatewayWorld;
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

  const [{ startGatewayWorld, DEMO_CONNECTION }, { createDevCa }] = await Promise.all([
    import('../harness/gateway-world.ts'),
    import('../../src/tls/dev-ca.ts'),
  ]);
  const ca = await createDevCa({ commonName: 'Sluice demo CA' });
  const world = await startGatewayWorld({
    dir,
    host,
    ca,
    identityProviderPort: opts.identityProviderPort ?? 0,
    emulatorPort: opts.kubernetesPort ?? 0,
    gatewayPort: opts.gatewayPort ?? 0,
    ...(opts.log ? { log: opts.log } : {}),
  });
  const { idp, emulator, gateway } = world;
  try {
    opts.log?.info({ issuer: idp.issuer }, 'demo identity provider started');
    opts.log?.info({ url: emulator.url }, 'demo Kubernetes API (emulator) started');
    opts.log?.info({ url: gateway.url }, 'Sluice gateway started');
    const caFile = world.caFile;
    const server = gateway.clusterUrl(DEMO_CONNECTION);

    const kubeconfigs: Record<string, string> = {};
    for (const user of DEMO_USERS) {
      kubeconfigs[user.name] = await writeKubeconfig({
        path: join(dir, `kubeconfig-${user.name}`),
        server,
        caCert: ca.cert,
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
      kubernetes: { url: server, port: gateway.port },
      gateway: { url: gateway.url, caFile },
      users: DEMO_USERS.map((u) => ({ name: u.name, kind: u.kind, groups: [...u.groups], kubeconfig: kubeconfigs[u.name] ?? '' })),
    };
    await writeDemoState(dir, state);
    opts.log?.info({ dir }, 'demo folder written');
    const db = world.config.store.sqlite.path;
    // The CLI looks for the demo in ./.sluice/demo unless told otherwise.
    const demoDirFlag = dir === resolve('.sluice/demo') ? '' : ` --demo-dir ${dir}`;

    return {
      dir,
      issuer: idp.issuer,
      emulatorUrl: emulator.url,
      gatewayUrl: server,
      idp,
      emulator,
      world,
      state,
      kubeconfigs,
      summary: () =>
        [
          `identity provider: ${idp.issuer}  (people log in with password "${idp.password}")`,
          `sluice gateway:    ${server}  (policy: policies/demo)`,
          `kubernetes API:    ${emulator.url}  (emulator behind the gateway; only the gateway's service account reaches it)`,
          ...(gateway.mcpUrl ? [`MCP endpoint:      ${gateway.mcpUrl}  (token: bin/sluice demo token bob --audience ${gateway.mcpUrl}${demoDirFlag}; docs/mcp.md)`] : []),
          `CA bundle:         ${caFile}`,
          `audit trail:       ${db}  (bin/sluice audit list --db ${db})`,
          '',
          ...formatDemoUsers(),
          '',
          ...DEMO_USERS.map((u) => `kubeconfig-${u.name.padEnd(8)} ${kubeconfigs[u.name] ?? ''}`),
          '',
          `try: kubectl --kubeconfig ${kubeconfigs.bob ?? join(dir, 'kubeconfig-bob')} get pods -n dev`,
          `     kubectl --kubeconfig ${kubeconfigs.bob ?? join(dir, 'kubeconfig-bob')} delete pod db-0 -n prod   (needs approval)`,
          'approve it, as carol, in another terminal (docs/approvals.md):',
          `     SLUICE_TOKEN=$(bin/sluice demo token carol${demoDirFlag}) bin/sluice approvals${demoDirFlag}`,
          `     SLUICE_TOKEN=$(bin/sluice demo token carol${demoDirFlag}) bin/sluice approve <id>${demoDirFlag}`,
          '',
        ].join('\n'),
      close: () => world.stop(),
    };
  } catch (err) {
    await world.stop();
    throw err;
  }
}
