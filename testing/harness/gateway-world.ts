/**
 * startGatewayWorld: the whole data path on loopback, as the demo and the end-to-end tests use
 * it — the real identity provider, the Kubernetes API emulator (trusting only the gateway's
 * service account, which may impersonate), and the Sluice gateway in front of it with a policy
 * and an audit store. Kubeconfigs point at the gateway; the cluster never sees a user's token.
 *
 * One CA signs every listener, so a single `ca.crt` serves kubectl and the gateway alike.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { openAudit } from '../../src/audit/open-audit.ts';
import type { AuditStore } from '../../src/store/audit-store.ts';
import { openSqliteApprovalStore } from '../../src/store/sqlite/open-sqlite-approval-store.ts';
import type { ApprovalStore } from '../../src/store/approval-store.ts';
import { ConfigSchema, type Config } from '../../src/config/schema.ts';
import { startGateway, type Gateway } from '../../src/gateway/start-gateway.ts';
import { createDevCa, type DevCa } from '../../src/tls/dev-ca.ts';
import { startEmulator, type Emulator, type UserInfo } from '../kube-emulator/index.ts';
import { startIdentityProvider, type IdentityProvider } from '../oidc/provider.ts';
import { idpTokenFor } from './idp-token.ts';
import { writeKubeconfig } from './kubeconfig.ts';

/** The identity the gateway presents to the cluster (a service account allowed to impersonate). */
export const GATEWAY_SERVICE_ACCOUNT: UserInfo = {
  username: 'system:serviceaccount:sluice:gateway',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:sluice', 'system:authenticated'],
};

export const DEMO_CONNECTION = 'demo';
export const DEMO_POLICY_DIR = fileURLToPath(new URL('../../policies/demo', import.meta.url));

export interface GatewayWorldOptions {
  /** Folder for certificates, the token file, the audit database and kubeconfigs. */
  dir: string;
  host?: string;
  ca?: DevCa;
  identityProviderPort?: number;
  emulatorPort?: number;
  gatewayPort?: number;
  /** Policy files or folders (default policies/demo). */
  policyPaths?: string[];
  seed?: 'demo' | 'empty';
  log?: Logger;
  /** Wrap the audit store the gateway writes to (tests that hold or fail its writes). */
  wrapStore?: (store: AuditStore) => AuditStore;
  /** The gateway's clock (tests of expiry move it). */
  now?: () => Date;
  /** Extra configuration under `approvals` (webhooks, sameAs, timeouts). */
  approvals?: Record<string, unknown>;
  /** Configuration under `masking` (rules, detectors, hash key, enabled). */
  masking?: Record<string, unknown>;
  /** The `recording` section (caps, on/off). */
  recording?: Record<string, unknown>;
  /** The `mcp` section (sessions, origins…). */
  mcp?: Record<string, unknown>;
}

export interface GatewayWorld {
  dir: string;
  ca: DevCa;
  caFile: string;
  idp: IdentityProvider;
  emulator: Emulator;
  gateway: Gateway;
  store: AuditStore;
  approvalStore: ApprovalStore;
  config: Config;
  /** A fresh access token from the identity provider (people: code + PKCE; ci-bot: client credentials). */
  tokenFor(user: string): Promise<string>;
  /** Write `kubeconfig-<user>` pointing at the gateway with a fresh static token; returns its path. */
  kubeconfigFor(user: string, opts?: { namespace?: string; name?: string }): Promise<string>;
  /** Stop the gateway and start a new one on the same port, configuration and stores (a restart). */
  restartGateway(): Promise<void>;
  stop(): Promise<void>;
}

export async function startGatewayWorld(opts: GatewayWorldOptions): Promise<GatewayWorld> {
  const host = opts.host ?? '127.0.0.1';
  const dir = opts.dir;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const log = opts.log ?? pino({ level: 'silent' });
  const ca = opts.ca ?? (await createDevCa({ commonName: 'Sluice test CA' }));
  const ips = [...new Set(['127.0.0.1', '::1', ...(isIP(host) ? [host] : [])])];
  const dnsNames = [...new Set(['localhost', ...(isIP(host) ? [] : [host])])];
  const closers: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    closers.length = 0;
  };

  try {
    const caFile = join(dir, 'ca.crt');
    await writeFile(caFile, ca.cert);

    const idp = await startIdentityProvider({ ca, host, port: opts.identityProviderPort ?? 0 });
    closers.push(() => idp.close());

    const saToken = randomBytes(32).toString('base64url');
    const emulatorTls = await ca.issue({ commonName: 'sluice-kubernetes', dnsNames, ips });
    const emulator = await startEmulator({
      seed: opts.seed ?? 'demo',
      host,
      port: opts.emulatorPort ?? 0,
      tls: { ...emulatorTls, ca: ca.cert },
      tokens: { [saToken]: GATEWAY_SERVICE_ACCOUNT },
      impersonators: [GATEWAY_SERVICE_ACCOUNT.username],
    });
    closers.push(() => emulator.close());
    const tokenFile = join(dir, 'gateway-sa.token');
    await writeFile(tokenFile, saToken, { mode: 0o600 });

    const gatewayTls = await ca.issue({ commonName: 'sluice-gateway', dnsNames, ips });
    const certFile = join(dir, 'gateway.crt');
    const keyFile = join(dir, 'gateway.key');
    await writeFile(certFile, gatewayTls.cert);
    await writeFile(keyFile, gatewayTls.key, { mode: 0o600 });

    const config = ConfigSchema.parse({
      server: { host, port: opts.gatewayPort ?? 0, tls: { mode: 'files', certFile, keyFile } },
      identity: {
        issuers: [
          {
            issuer: idp.issuer,
            audiences: [idp.audience],
            caFile,
            usernameClaim: 'sub',
            groupsPrefix: '',
            allowUnprefixedGroups: true,
          },
        ],
      },
      connections: [{ name: DEMO_CONNECTION, server: emulator.url, caFile, tokenFile }],
      policy: { paths: opts.policyPaths ?? [DEMO_POLICY_DIR] },
      store: { sqlite: { path: join(dir, 'sluice.db') } },
      trail: { signingKeyFile: join(dir, 'trail-signing.pem') },
      ...(opts.approvals ? { approvals: opts.approvals } : {}),
      ...(opts.masking ? { masking: opts.masking } : {}),
      ...(opts.recording ? { recording: opts.recording } : {}),
      ...(opts.mcp ? { mcp: opts.mcp } : {}),
    });
    const { store, recorder } = await openAudit(config, { log, closeStore: false, ...(opts.wrapStore ? { wrapStore: opts.wrapStore } : {}) });
    closers.push(() => store.close());
    const approvalStore = openSqliteApprovalStore({ path: config.store.sqlite.path });
    closers.push(() => approvalStore.close());
    const gatewayDeps = { log, recorder, approvalStore, auditStore: store, ...(opts.now ? { now: opts.now } : {}) };
    let gateway = await startGateway(config, gatewayDeps);
    closers.push(() => gateway.close());

    const tokenFor = (user: string): Promise<string> => idpTokenFor(idp, user);

    return {
      dir,
      ca,
      caFile,
      idp,
      emulator,
      get gateway() {
        return gateway;
      },
      async restartGateway() {
        const port = gateway.port;
        await gateway.close();
        gateway = await startGateway({ ...config, server: { ...config.server, port } }, gatewayDeps);
      },
      store,
      approvalStore,
      config,
      tokenFor,
      kubeconfigFor: async (user, o = {}) =>
        writeKubeconfig({
          path: join(dir, o.name ?? `kubeconfig-${user}`),
          server: gateway.clusterUrl(DEMO_CONNECTION),
          caCert: ca.cert,
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
