/**
 * Upstream connections: where a Kubernetes connection's requests go and with which credentials.
 * Credentials are Sluice's own (a token file, a kubeconfig user, the pod's service account);
 * the user's token never goes upstream (SECURITY.md: "Principles"). Token files are re-read when
 * they change, so projected service-account tokens rotate without a restart.
 */
import https from 'node:https';
import { readFileSync, statSync } from 'node:fs';
import type { z } from 'zod';
import type { ConnectionSchema } from '../../config/schema.ts';
import { SluiceError } from '../../core/errors.ts';

export type ConnectionConfig = z.output<typeof ConnectionSchema>;

export interface Upstream {
  readonly name: string;
  /** Base URL of the API server; its path (if any) is prefixed to every request path. */
  readonly base: URL;
  readonly impersonate: boolean;
  readonly agent: https.Agent;
  /** The `Authorization` header value for the next upstream request (undefined: client certificate only). */
  authorization(): Promise<string | undefined>;
  close(): void;
}

/** How often credentials are looked at again (token file mtime, kubeconfig exec plugins). */
const CREDENTIAL_RECHECK_MS = 1000;

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new SluiceError('CONFIG_INVALID', `cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}

/** A bearer token kept in a file, re-read when the file's mtime or size changes. */
function tokenFileSource(path: string): () => string {
  let token = '';
  let stamp = '';
  let checkedAt = 0;
  const load = (): void => {
    const st = statSync(path);
    const s = `${st.mtimeMs}:${st.size}`;
    if (s !== stamp) {
      token = readFileSync(path, 'utf8').trim();
      stamp = s;
    }
  };
  try {
    load();
  } catch (e) {
    throw new SluiceError('CONFIG_INVALID', `cannot read token file ${path}: ${(e as Error).message}`);
  }
  return () => {
    const now = Date.now();
    if (now - checkedAt >= CREDENTIAL_RECHECK_MS) {
      checkedAt = now;
      try {
        load();
      } catch {
        // Keep the last token while the file is being replaced (atomic rename dance).
      }
    }
    return token;
  };
}

/**
 * Keep-alive connections to the API server, without a cap on open sockets: watches and followed
 * logs hold a socket each for as long as they run, and a cap would queue every later request
 * behind them (1,000 watches must not starve a GET).
 */
function agentOptions(extra: https.AgentOptions): https.AgentOptions {
  return { keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256, ...extra };
}

/** Build the upstream of one configured connection. */
export async function createUpstream(cfg: ConnectionConfig): Promise<Upstream> {
  if (cfg.server) {
    const agent = new https.Agent(agentOptions({ ca: cfg.caFile ? readPem(cfg.caFile, 'CA file') : undefined }));
    const token = tokenFileSource(cfg.tokenFile!);
    return {
      name: cfg.name,
      base: new URL(cfg.server),
      impersonate: cfg.impersonate,
      agent,
      authorization: () => Promise.resolve(`Bearer ${token()}`),
      close: () => agent.destroy(),
    };
  }

  // Loaded only for kubeconfig and in-cluster connections (it is large).
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  try {
    if (cfg.inCluster) kc.loadFromCluster();
    else {
      kc.loadFromFile(cfg.kubeconfig!);
      if (cfg.context) kc.setCurrentContext(cfg.context);
    }
  } catch (e) {
    throw new SluiceError('CONFIG_INVALID', `connection ${cfg.name}: cannot load ${cfg.inCluster ? 'in-cluster configuration' : `kubeconfig ${cfg.kubeconfig}`}: ${(e as Error).message}`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new SluiceError('CONFIG_INVALID', `connection ${cfg.name}: the kubeconfig has no current cluster`);
  const tlsOpts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(tlsOpts);
  const agent = new https.Agent(
    agentOptions({ ca: tlsOpts.ca, cert: tlsOpts.cert, key: tlsOpts.key, rejectUnauthorized: !cluster.skipTLSVerify }),
  );
  let cached: { value: string | undefined; at: number } | undefined;
  return {
    name: cfg.name,
    base: new URL(cluster.server),
    impersonate: cfg.impersonate,
    agent,
    async authorization() {
      if (cached && Date.now() - cached.at < CREDENTIAL_RECHECK_MS) return cached.value;
      const o: https.RequestOptions = { headers: {} };
      await kc.applyToHTTPSOptions(o);
      const h = (o.headers as Record<string, string | undefined>).Authorization ?? (o.headers as Record<string, string | undefined>).authorization;
      cached = { value: h, at: Date.now() };
      return h;
    },
    close: () => agent.destroy(),
  };
}
