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
 *
 * BENCH_EMULATOR_DELETE_LOG=<file> (bench/world.ts sets it): append one JSON line per DELETE as
 * soon as its headers are parsed, `{time, method, url}` with time = performance.timeOrigin +
 * performance.now() (ms since the epoch, sub-ms; the bench process uses the same clock), so
 * bench/approvals.ts can tell when a released held request reached the API server.
 */
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { writeKubeconfig } from '../testing/harness/kubeconfig.ts';
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
const deleteLog = process.env.BENCH_EMULATOR_DELETE_LOG;
if (deleteLog) {
  const out = createWriteStream(deleteLog, { flags: 'a' });
  emu.server.prependListener('request', (req: { method?: string; url?: string }) => {
    if (req.method !== 'DELETE') return;
    const time = performance.timeOrigin + performance.now();
    out.write(`${JSON.stringify({ time, method: req.method, url: req.url })}\n`);
  });
}
await writeKubeconfig({ path: opts.kubeconfig, server: emu.url, caCert: emu.caCert, user: 'emulator-admin', cluster: 'emulator', token: emu.adminToken });
process.stdout.write(`emulator: ${emu.url}\n`);
const stop = (): void => {
  void emu.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
