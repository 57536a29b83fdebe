/**
 * `sluice demo` (start the demo world and run until interrupted), `sluice demo token <user>`
 * (a fresh access token from the demo identity provider, or an ExecCredential for kubectl) and
 * `sluice demo users`.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.ts';
import { createLogger } from '../../log/logger.ts';
import { onShutdown } from '../shutdown.ts';

export function registerDemoCommands(program: Command): void {
  const demo = program
    .command('demo')
    .description('Start the demo world on loopback: identity provider, Kubernetes API, the Sluice gateway with the demo policy, and kubeconfigs per demo user.')
    .option('-c, --config <file>', 'configuration file (see docs/config.md)')
    .option('-d, --dir <dir>', 'folder for kubeconfigs and state (default: demo.dir, .sluice/demo)')
    .action(async (opts: { config?: string; dir?: string }) => {
      const cfg = await loadConfig(opts.config);
      // A person watches the demo in a terminal: short readable lines unless a config says otherwise.
      const log = createLogger(opts.config || !process.stderr.isTTY ? cfg.log : { ...cfg.log, format: 'pretty' }, 'demo');
      const { startDemo } = await import('../../../testing/demo/index.ts');
      const world = await startDemo({
        dir: resolve(opts.dir ?? cfg.demo.dir),
        host: cfg.demo.host,
        identityProviderPort: cfg.demo.identityProviderPort,
        kubernetesPort: cfg.demo.kubernetesPort,
        gatewayPort: cfg.demo.gatewayPort,
        log,
      });
      process.stdout.write(world.summary());
      process.stdout.write(`demo folder: ${world.dir}\n`);
      process.stdout.write('ready — press Ctrl-C to stop\n');
      onShutdown(async () => {
        await world.close();
      });
    });

  demo
    .command('token')
    .description('Print a fresh access token for a demo user or machine identity (the demo must be running).')
    .argument('<user>', 'alice, bob, carol, mallory or ci-bot')
    .option('--exec-credential', 'print a client.authentication.k8s.io/v1 ExecCredential (kubectl exec plugin)')
    .option('--audience <aud>', "the token's audience: the MCP endpoint's URL for /mcp (RFC 8707 resource); default the Kubernetes listener's (sluice)")
    .option('--demo-dir <dir>', 'demo folder (default: demo.dir, .sluice/demo)')
    .option('-c, --config <file>', 'configuration file')
    .action(async (user: string, opts: { execCredential?: boolean; audience?: string; demoDir?: string; config?: string }) => {
      const cfg = await loadConfig(opts.config);
      const { demoToken } = await import('../../../testing/demo/index.ts');
      const out = await demoToken(resolve(opts.demoDir ?? cfg.demo.dir), user, { execCredential: Boolean(opts.execCredential), ...(opts.audience ? { audience: opts.audience } : {}) });
      process.stdout.write(out.endsWith('\n') ? out : `${out}\n`);
    });

  demo
    .command('users')
    .description('List the demo people and machine identities with their groups.')
    .action(async () => {
      const { DEMO_USERS } = await import('../../../testing/demo/users.ts');
      for (const u of DEMO_USERS) {
        process.stdout.write(`${u.name.padEnd(8)} ${u.kind.padEnd(8)} ${(u.groups.join(',') || '(no groups)').padEnd(20)} ${u.description}\n`);
      }
    });
}
