/**
 * `sluice` command line. Each command lives in its own file under ./commands and is a thin layer
 * over library calls (and, once the gateway exists, over the control API).
 */
import { Command, CommanderError } from 'commander';
import { isSluiceError } from '../core/errors.ts';
import { registerAccessCommands } from './commands/access.ts';
import { registerApprovalCommands } from './commands/approvals.ts';
import { registerAuditCommands } from './commands/audit.ts';
import { registerAuditReplayCommand } from './commands/audit-replay.ts';
import { registerAuditTrailCommands } from './commands/audit-trail.ts';
import { registerConfigCommands } from './commands/config.ts';
import { registerDemoCommands } from './commands/demo.ts';
import { registerDevCommands } from './commands/dev.ts';
import { registerPolicyCommands } from './commands/policy.ts';
import { registerServerCommands } from './commands/server.ts';
import { VERSION } from '../core/version.ts';

const program = new Command('sluice')
  .description('Identity-aware Layer 7 gateway for Kubernetes, MCP and databases.')
  .version(VERSION, '-V, --version')
  .showHelpAfterError()
  .exitOverride();

registerServerCommands(program);
registerDemoCommands(program);
registerDevCommands(program);
registerConfigCommands(program);
registerPolicyCommands(program);
registerAuditCommands(program);
registerAuditTrailCommands(program.commands.find((c) => c.name() === 'audit')!);
registerAuditReplayCommand(program.commands.find((c) => c.name() === 'audit')!);
registerApprovalCommands(program);
registerAccessCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  if (isSluiceError(e)) {
    process.stderr.write(`sluice: ${e.message} [${e.code}]\n`);
    process.exit(2);
  }
  // Unexpected errors: the message for people, the stack only when asked for (SLUICE_DEBUG=1).
  const err = e instanceof Error ? e : new Error(String(e));
  process.stderr.write(`sluice: ${process.env.SLUICE_DEBUG ? (err.stack ?? err.message) : err.message}\n`);
  process.exit(1);
}
