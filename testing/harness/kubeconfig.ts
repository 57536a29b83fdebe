/**
 * Write a kubeconfig for one cluster, one user and one context. The user authenticates with a
 * static bearer token or an exec credential plugin (client.authentication.k8s.io/v1,
 * interactiveMode Never, no cluster info), as kubectl ≥ 1.22 expects. The file is written
 * with mode 0600 because it may hold a token.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

export interface ExecPlugin {
  /** Absolute path of the plugin (kubectl resolves relative paths against the kubeconfig's folder). */
  command: string;
  args?: string[];
  env?: Record<string, string>;
}

export interface KubeconfigOptions {
  path: string;
  /** API server URL, e.g. https://127.0.0.1:6443. */
  server: string;
  /** PEM CA certificate(s) to trust for the server. */
  caCert: string;
  /** User (and context) name in the file. */
  user: string;
  token?: string;
  exec?: ExecPlugin;
  namespace?: string;
  /** Cluster name in the file (default "sluice"). */
  cluster?: string;
}

/** Build the kubeconfig object (see writeKubeconfig). */
export function buildKubeconfig(opts: Omit<KubeconfigOptions, 'path'>): Record<string, unknown> {
  if (!opts.token && !opts.exec) throw new Error(`kubeconfig for ${opts.user}: give a token or an exec plugin`);
  const cluster = opts.cluster ?? 'sluice';
  const user: Record<string, unknown> = {};
  if (opts.token) user.token = opts.token;
  if (opts.exec) {
    user.exec = {
      apiVersion: 'client.authentication.k8s.io/v1',
      command: opts.exec.command,
      args: opts.exec.args ?? [],
      env: opts.exec.env ? Object.entries(opts.exec.env).map(([name, value]) => ({ name, value })) : null,
      interactiveMode: 'Never',
      provideClusterInfo: false,
    };
  }
  const context = `${opts.user}@${cluster}`;
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: opts.server, 'certificate-authority-data': Buffer.from(opts.caCert).toString('base64') } }],
    users: [{ name: opts.user, user }],
    contexts: [{ name: context, context: { cluster, user: opts.user, ...(opts.namespace ? { namespace: opts.namespace } : {}) } }],
    'current-context': context,
    preferences: {},
  };
}

/** Write the kubeconfig (creating its folder) and return its path. */
export async function writeKubeconfig(opts: KubeconfigOptions): Promise<string> {
  await mkdir(dirname(opts.path), { recursive: true });
  await writeFile(opts.path, stringify(buildKubeconfig(opts)), { mode: 0o600 });
  return opts.path;
}
