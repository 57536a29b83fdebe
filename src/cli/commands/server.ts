/** `sluice server`: run the gateway (Kubernetes API listener) from a configuration file. */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.ts';
import { createLogger } from '../../log/logger.ts';
import { onShutdown } from '../shutdown.ts';

export function registerServerCommands(program: Command): void {
  program
    .command('server')
    .description('Run the gateway: the Kubernetes API listener with identity, policy and audit (see docs/config.md).')
    .requiredOption('-c, --config <file>', 'configuration file')
    .action(async (opts: { config: string }) => {
      const cfg = await loadConfig(opts.config);
      const log = createLogger(cfg.log, 'gateway');
      // Loaded here, not at the top: every other command (`sluice demo token` runs as kubectl's
      // exec plugin, once per kubectl command) starts without the gateway's modules.
      const [{ openAudit }, { startGateway }, { createMemoryApprovalStore }, { openSqliteApprovalStore }] = await Promise.all([
        import('../../audit/open-audit.ts'),
        import('../../gateway/start-gateway.ts'),
        import('../../store/memory/memory-approval-store.ts'),
        import('../../store/sqlite/open-sqlite-approval-store.ts'),
      ]);
      if (cfg.store.sqlite.path !== ':memory:') await mkdir(dirname(resolve(cfg.store.sqlite.path)), { recursive: true });
      const { recorder, store } = await openAudit(cfg, { log });
      const approvalStore = cfg.store.sqlite.path === ':memory:' ? createMemoryApprovalStore() : openSqliteApprovalStore({ path: cfg.store.sqlite.path });
      const gateway = await startGateway(cfg, { log, recorder, approvalStore, auditStore: store });
      for (const c of cfg.connections) process.stdout.write(`connection ${c.name}: ${gateway.clusterUrl(c.name)}\n`);
      process.stdout.write(`sluice gateway listening on ${gateway.url}\nready\n`);
      onShutdown(async () => {
        await gateway.close();
        await recorder.close();
        await approvalStore.close();
      });
    });
}
