/** `sluice dev emulator`: run the Kubernetes API emulator on its own (development and tests). */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.ts';
import { onShutdown } from '../shutdown.ts';

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`invalid port: ${v}`);
  return n;
}

export function registerDevCommands(program: Command): void {
  const dev = program.command('dev').description('Development tools (not for production).');
  dev
    .command('emulator')
    .description('Start the Kubernetes API emulator over HTTPS with its own CA and print how to reach it.')
    .option('-c, --config <file>', 'configuration file (emulator.* options)')
    .option('-p, --port <port>', 'port to listen on (0: any free port)', parsePort)
    .option('--host <host>', 'address to listen on')
    .option('--seed <seed>', 'demo | empty')
    .option('--kubeconfig <file>', 'write an admin kubeconfig to this file')
    .action(async (opts: { config?: string; port?: number; host?: string; seed?: string; kubeconfig?: string }) => {
      const cfg = await loadConfig(opts.config);
      const seed = opts.seed ?? cfg.emulator.seed;
      if (seed !== 'demo' && seed !== 'empty') throw new Error(`--seed must be demo or empty, not ${seed}`);
      const { startEmulator } = await import('../../../testing/kube-emulator/index.ts');
      const emu = await startEmulator({ host: opts.host ?? cfg.emulator.host, port: opts.port ?? cfg.emulator.port, seed });
      const kubeconfigPath = opts.kubeconfig ?? cfg.emulator.kubeconfig;
      if (kubeconfigPath) {
        const { writeKubeconfig } = await import('../../../testing/harness/kubeconfig.ts');
        const path = await writeKubeconfig({ path: resolve(kubeconfigPath), server: emu.url, caCert: emu.caCert, user: 'emulator-admin', cluster: 'emulator', token: emu.adminToken });
        process.stdout.write(`kubeconfig: ${path}\n`);
      }
      process.stdout.write(`emulator: ${emu.url}\nready — press Ctrl-C to stop\n`);
      onShutdown(() => emu.close());
    });
}
