/**
 * The benchmark's upstream: the Kubernetes API emulator in a process of its own, configured
 * like the gateway world (testing/harness/gateway-world.ts) — it trusts a static service-account
 * token for the gateway, which may impersonate, besides its generated admin token.
 *
 * Usage: node --import tsx bench/emulator-process.ts <options.json>
 *   options.json: { host, tls: { cert, key, ca }, tokens: { <token>: UserInfo }, impersonators,
 *                   seed, kubeconfig }  (the bench writes it into its temp folder)
 * Prints `emulator: <url>` once listening and writes an admin kubeconfig to `kubeconfig`.
 * Request recording is off: the emulator is the fixed baseline here, not what is measured.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { startEmulator, type UserInfo } from '../testing/kube-emulator/index.ts';

interface Options {
  host: string;
  tls: { cert: string; key: string; ca: string };
  tokens: Record<string, UserInfo>;
  impersonators: string[];
  seed: 'demo' | 'empty';
  kubeconfig: string;
}

const file = process.argv[2];
if (!file) throw new Error('usage: emulator-process.ts <options.json>');
const opts = JSON.parse(await readFile(file, 'utf8')) as Options;
const emu = await startEmulator({
  host: opts.host,
  port: 0,
  tls: opts.tls,
  tokens: opts.tokens,
  impersonators: opts.impersonators,
  seed: opts.seed,
  record: false,
});
await writeFile(
  opts.kubeconfig,
  stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'emulator', cluster: { server: emu.url, 'certificate-authority-data': Buffer.from(emu.caCert).toString('base64') } }],
    users: [{ name: 'emulator-admin', user: { token: emu.adminToken } }],
    contexts: [{ name: 'emulator', context: { cluster: 'emulator', user: 'emulator-admin' } }],
    'current-context': 'emulator',
  }),
  { mode: 0o600 },
);
process.stdout.write(`emulator: ${emu.url}\n`);
const stop = (): void => {
  void emu.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
