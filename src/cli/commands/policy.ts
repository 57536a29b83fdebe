/**
 * `sluice policy check <dir|file...>` validates policy files (exit 2 with every problem and its
 * line, exit 0 with "N rules valid"); `sluice policy test <dir>` runs the test-case files under
 * a directory against a policy (exit 1 when a case fails).
 */
import type { Command } from 'commander';
import { loadPolicies } from '../../policy/load-policies.ts';
import { runPolicyTests } from '../../policy/policy-test.ts';

export function registerPolicyCommands(program: Command): void {
  const policy = program.command('policy').description('Validate and test authorization policies (docs/policy.md).');
  policy
    .command('check')
    .description('Validate policy files; prints every problem with its file, line and column.')
    .argument('<paths...>', 'policy directories (their *.yaml files) or files')
    .action(async (paths: string[]) => {
      const set = await loadPolicies(paths);
      process.stdout.write(`${set.rules.length} rule${set.rules.length === 1 ? '' : 's'} valid (${set.files.length} file${set.files.length === 1 ? '' : 's'})\n`);
    });
  policy
    .command('test')
    .description('Run the policy test cases (YAML files with "cases:") found under a directory.')
    .argument('<dir>', 'directory searched recursively for test-case files')
    .option('--policies <paths...>', 'policy directories or files (default: <dir>)')
    .action(async (dir: string, opts: { policies?: string[] }) => {
      const set = await loadPolicies(opts.policies ?? [dir]);
      const report = await runPolicyTests(dir, set);
      for (const r of report.results) {
        if (r.passed) continue;
        const indented = r.message.split('\n').map((l) => `    ${l}`).join('\n');
        process.stdout.write(`FAIL ${r.case.file}:${r.case.line} ${r.case.name}\n${indented}\n`);
      }
      process.stdout.write(`${report.passed} passed, ${report.failed} failed (${report.results.length} cases, ${set.rules.length} rules)\n`);
      if (report.failed > 0) process.exitCode = 1;
    });
}
