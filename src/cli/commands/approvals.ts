/**
 * `sluice approvals [list|watch|show|approve|deny|reason|revoke]` and the shortcuts
 * `sluice approve <id>` / `sluice deny <id> --reason …`: held requests and access requests as
 * the caller sees them, through the gateway's control API (../control-client.ts). Who may see
 * or decide what is the gateway's decision; the CLI only shows it (`DECIDE: you`).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Option, type Command } from 'commander';
import { isSluiceError, type ErrorCode } from '../../core/errors.ts';
import type { ApprovalEventJson, ApprovalJson, SnapshotJson } from '../../control/wire-types.ts';
import { describeWhat, formatApprovalDetails, formatApprovalTable, formatEventLine, votesSummary } from '../approval-format.ts';
import { addConnectionOptions, withControlClient, type ConnectionFlags, type ControlClient } from '../control-client.ts';

export interface OutputFlags {
  output?: 'text' | 'json';
}
type Flags = ConnectionFlags & OutputFlags;

/** `-o json` for scripts; text for people. */
export function outputOption(): Option {
  return new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text');
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

const path = (id: string, action?: string): string => `/approvals/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;

/** Errors after which `--watch` tries again (the gateway or a dependency is away for a while). */
const TRANSIENT: readonly ErrorCode[] = ['CONTROL_API_UNAVAILABLE', 'STORE_UNAVAILABLE', 'AUTHN_ISSUER_UNAVAILABLE'];
const MIN_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;

/** Print approvals as they change until Ctrl-C; reconnect with backoff when the stream drops. */
async function watch(client: ControlClient, json: boolean): Promise<void> {
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // What was printed per approval, so that a snapshot after a reconnect repeats nothing.
  const printed = new Map<string, string>();
  const signature = (a: ApprovalJson): string => `${a.state}:${a.votes.length}:${a.reason ?? ''}:${a.canDecide}`;
  const show = (type: string, at: string, a: ApprovalJson, actor?: ApprovalEventJson['actor']): void => {
    if (printed.get(a.id) === signature(a)) return;
    printed.set(a.id, signature(a));
    process.stdout.write(formatEventLine({ type, at, approval: a, ...(actor ? { actor } : {}) }));
  };
  let delay = MIN_BACKOFF_MS;
  try {
    while (!ac.signal.aborted) {
      let why = 'the gateway ended the event stream';
      try {
        await client.stream(
          '/approvals/events',
          (e) => {
            delay = MIN_BACKOFF_MS;
            if (json) {
              process.stdout.write(`${JSON.stringify({ event: e.event, data: JSON.parse(e.data) as unknown })}\n`);
              return;
            }
            if (e.event === 'snapshot') {
              const now = new Date().toISOString();
              for (const a of (JSON.parse(e.data) as SnapshotJson).approvals.slice().reverse()) show('pending', now, a);
            } else {
              const ev = JSON.parse(e.data) as ApprovalEventJson;
              show(ev.type, ev.at, ev.approval, ev.actor);
            }
          },
          ac.signal,
        );
      } catch (err) {
        if (!isSluiceError(err) || !TRANSIENT.includes(err.code)) throw err;
        why = `${err.message} [${err.code}]`;
      }
      if (ac.signal.aborted) break;
      process.stderr.write(`sluice: ${why}; reconnecting in ${delay / 1000}s\n`);
      await sleep(delay, undefined, { signal: ac.signal }).catch(() => undefined);
      delay = Math.min(delay * 2, MAX_BACKOFF_MS);
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

async function list(flags: Flags & { all?: boolean; mine?: boolean; limit?: string; watch?: boolean }): Promise<void> {
  await withControlClient(flags, async (client) => {
    if (flags.watch) return watch(client, flags.output === 'json');
    const { approvals } = await client.get<{ approvals: ApprovalJson[] }>('/approvals', {
      state: flags.all ? undefined : 'pending',
      mine: flags.mine ? 'true' : undefined,
      limit: flags.limit,
    });
    if (flags.output === 'json') return printJson({ approvals });
    if (approvals.length === 0) {
      process.stdout.write(`no ${flags.all ? '' : 'pending '}approvals${flags.mine ? ' of yours' : ' you can see'}\n`);
      return;
    }
    process.stdout.write(formatApprovalTable(approvals, new Date()));
  });
}

/** After a vote or a change: one line saying what happened. */
function outcome(verb: string, a: ApprovalJson): string {
  const what = `${a.id.slice(0, 8)} (${describeWhat(a)})`;
  if (verb === 'approve')
    return a.state === 'approved' ? `approved ${what}\n` : `approval recorded for ${what}: ${votesSummary(a)} approvals, still ${a.state}\n`;
  if (verb === 'deny') return `denied ${what}\n`;
  if (verb === 'reason') return `reason recorded for ${what}; ${a.state === 'pending' ? 'approvers can decide now' : `it is ${a.state}`}\n`;
  return `revoked ${what}\n`;
}

/** POST one action on an approval and print the result. */
async function act(verb: 'approve' | 'deny' | 'reason' | 'revoke', id: string, body: { reason?: string }, flags: Flags): Promise<void> {
  await withControlClient(flags, async (client) => {
    const a = await client.post<ApprovalJson>(path(id, verb), body);
    if (flags.output === 'json') printJson(a);
    else process.stdout.write(outcome(verb, a));
  });
}

/** `approve <id>` as a subcommand of `approvals` and at the top level. */
function approveCommand(cmd: Command): Command {
  return cmd
    .description('Approve a held request or an access request (you must be an eligible approver, not the requester).')
    .argument('<id>', 'approval id or a unique prefix of at least 6 characters')
    .option('--reason <text>', 'why (shown to the requester and recorded)')
    .action(async (id: string, _o: unknown, c: Command) => {
      const flags = c.optsWithGlobals<Flags & { reason?: string }>();
      await act('approve', id, flags.reason !== undefined ? { reason: flags.reason } : {}, flags);
    });
}

function denyCommand(cmd: Command): Command {
  return cmd
    .description('Deny a held request or an access request; the requester sees your reason.')
    .argument('<id>', 'approval id or a unique prefix of at least 6 characters')
    .requiredOption('--reason <text>', 'why (required)')
    .action(async (id: string, _o: unknown, c: Command) => {
      const flags = c.optsWithGlobals<Flags & { reason: string }>();
      await act('deny', id, { reason: flags.reason }, flags);
    });
}

export function registerApprovalCommands(program: Command): void {
  const approvals = addConnectionOptions(
    program
      .command('approvals')
      .description('Held requests and access requests you may see, through the gateway\'s control API (default: list the pending ones).'),
  ).addOption(outputOption());

  approvals
    .command('list', { isDefault: true })
    .description('List approvals you may see: pending ones unless --all. DECIDE "you" marks those you may approve or deny.')
    .option('--all', 'every state, not only pending')
    .option('--mine', 'only your own requests')
    .option('--limit <n>', 'at most this many')
    .option('-w, --watch', 'print each new or changed approval as it happens, until Ctrl-C')
    .action(async (_o: unknown, c: Command) => list(c.optsWithGlobals()));

  approvals
    .command('watch')
    .description('Print each new or changed approval as it happens, until Ctrl-C (reconnects when the stream drops).')
    .action(async (_o: unknown, c: Command) => list({ ...c.optsWithGlobals<Flags>(), watch: true }));

  approvals
    .command('show')
    .description('Everything about one approval: requester, rules, the held request (secrets masked), requirements, votes.')
    .argument('<id>', 'approval id or a unique prefix of at least 6 characters')
    .action(async (id: string, _o: unknown, c: Command) => {
      const flags = c.optsWithGlobals<Flags>();
      await withControlClient(flags, async (client) => {
        const a = await client.get<ApprovalJson>(path(id));
        if (flags.output === 'json') printJson(a);
        else process.stdout.write(formatApprovalDetails(a, new Date()));
      });
    });

  approveCommand(approvals.command('approve'));
  denyCommand(approvals.command('deny'));

  approvals
    .command('reason')
    .description('Give (or replace) the reason of your own pending request; approvers see it.')
    .argument('<id>', 'approval id or a unique prefix of at least 6 characters')
    .argument('<reason>', 'why you need it')
    .action(async (id: string, reason: string, _o: unknown, c: Command) => act('reason', id, { reason }, c.optsWithGlobals<Flags>()));

  approvals
    .command('revoke')
    .description('End an active access grant early (its requester or an eligible approver).')
    .argument('<id>', 'approval id or a unique prefix of at least 6 characters')
    .option('--reason <text>', 'why')
    .action(async (id: string, _o: unknown, c: Command) => {
      const flags = c.optsWithGlobals<Flags & { reason?: string }>();
      await act('revoke', id, flags.reason !== undefined ? { reason: flags.reason } : {}, flags);
    });

  approveCommand(addConnectionOptions(program.command('approve')).addOption(outputOption()));
  denyCommand(addConnectionOptions(program.command('deny')).addOption(outputOption()));
}
