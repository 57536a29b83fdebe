/**
 * The demo folder's state file, `demo.json`: what another process (`sluice demo token <user>`,
 * run by kubectl as an exec credential plugin) needs to obtain tokens from the running demo
 * identity provider. It holds the demo client secret, so it is written with mode 0600.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SluiceError } from '../../src/core/errors.ts';

export const DEMO_STATE_FILE = 'demo.json';

export interface DemoState {
  version: 1;
  startedAt: string;
  pid: number;
  identityProvider: {
    issuer: string;
    port: number;
    /** Absolute path of the PEM CA bundle that signed the provider's certificate. */
    caFile: string;
    /** Audience of access tokens. */
    audience: string;
    /** Public client people log in with (authorization code + PKCE). */
    publicClientId: string;
    /** Password of every demo person. */
    password: string;
    machineClients: Array<{ clientId: string; clientSecret: string; groups: string[] }>;
  };
  kubernetes: {
    url: string;
    port: number;
  };
  /** The Sluice gateway: its base URL (control API under /sluice/v1) and the CA that signed it (`sluice approvals`). */
  gateway?: {
    url: string;
    /** Absolute path of the PEM CA bundle that signed the gateway's certificate. */
    caFile: string;
  };
  users: Array<{ name: string; kind: 'person' | 'machine'; groups: string[]; kubeconfig: string }>;
}

export async function writeDemoState(dir: string, state: DemoState): Promise<string> {
  const path = join(dir, DEMO_STATE_FILE);
  await writeFile(path, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  return path;
}

/** Read demo.json; a clear error when the demo has not been started in that folder. */
export async function readDemoState(dir: string): Promise<DemoState> {
  const path = join(dir, DEMO_STATE_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new SluiceError('DEMO_NOT_RUNNING', `no demo state at ${path}: start the demo first (sluice demo) or pass --demo-dir`);
  }
  const state = JSON.parse(text) as DemoState;
  if (state.version !== 1 || !state.identityProvider?.issuer) throw new SluiceError('DEMO_NOT_RUNNING', `${path} is not a demo state file this version understands`);
  return state;
}
