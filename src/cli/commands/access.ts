/**
 * `sluice access request <role> --duration 30m --reason "…"`, `sluice access roles` and
 * `sluice access list`: time-bound roles (grants) through the gateway's control API. A request
 * opens a `grant` approval; once an approver approves it, the role's rules apply to you until it
 * expires or is revoked.
 */
import type { Command } from 'commander';
import type { ApprovalJson, RoleJson } from '../../control/wire-types.ts';
import { formatGrantTable, formatRoleTable, formatSpan } from '../approval-format.ts';
import { addConnectionOptions, withControlClient, type ConnectionFlags } from '../control-client.ts';
import { outputOption, printJson, type OutputFlags } from './approvals.ts';

type Flags = ConnectionFlags & OutputFlags;

export function registerAccessCommands(program: Command): void {
  const access = addConnectionOptions(
    program.command('access').description('Ask for a policy-defined role for a while (just-in-time access), and see your grants.'),
  ).addOption(outputOption());

  access
    .command('request')
    .description('Ask for a role for a while; an approver must approve it before it applies.')
    .argument('<role>', 'role name (sluice access roles lists them)')
    .requiredOption('--duration <duration>', 'how long, e.g. 30m, 1h, 1h30m (at most the role\'s maximum)')
    .requiredOption('--reason <text>', 'why you need it (approvers see it)')
    .action(async (role: string, _o: unknown, c: Command) => {
      const flags = c.optsWithGlobals<Flags & { duration: string; reason: string }>();
      await withControlClient(flags, async (client) => {
        const a = await client.post<ApprovalJson>('/access-requests', { role, duration: flags.duration, reason: flags.reason });
        if (flags.output === 'json') return printJson(a);
        const span = a.grant ? formatSpan(a.grant.durationMs) : flags.duration;
        process.stdout.write(`access request ${a.id} for role ${role} (${span}) is ${a.state}\n`);
        if (a.state === 'pending')
          process.stdout.write(`wait for an approver to approve it: sluice approvals show ${a.id.slice(0, 8)}  (or: sluice access list)\n`);
      });
    });

  access
    .command('roles')
    .description('Roles you can request, with their maximum duration.')
    .action(async (_o: unknown, c: Command) => {
      const flags = c.optsWithGlobals<Flags>();
      await withControlClient(flags, async (client) => {
        const { roles } = await client.get<{ roles: RoleJson[] }>('/roles');
        if (flags.output === 'json') return printJson({ roles });
        process.stdout.write(roles.length ? formatRoleTable(roles) : 'no roles can be requested\n');
      });
    });

  access
    .command('list')
    .description('Your access requests and grants: state and until when they are active.')
    .option('--active', 'only approved (active) grants')
    .action(async (_o: unknown, c: Command) => {
      const flags = c.optsWithGlobals<Flags & { active?: boolean }>();
      await withControlClient(flags, async (client) => {
        const { approvals } = await client.get<{ approvals: ApprovalJson[] }>('/approvals', {
          kind: 'grant',
          mine: 'true',
          state: flags.active ? 'approved' : undefined,
        });
        if (flags.output === 'json') return printJson({ approvals });
        process.stdout.write(approvals.length ? formatGrantTable(approvals, new Date()) : 'you have no access requests\n');
      });
    });
}
