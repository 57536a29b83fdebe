/** `sluice config check <file>` and `sluice config docs`. */
import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.ts';
import { renderConfigDocs } from '../../config/config-docs.ts';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('Validate and document the configuration file.');
  config
    .command('check')
    .description('Validate a configuration file; prints every problem with its line and column.')
    .argument('<file>', 'YAML configuration file')
    .action(async (file: string) => {
      await loadConfig(file);
      process.stdout.write(`${file}: valid\n`);
    });
  config
    .command('docs')
    .description('Print the configuration reference (Markdown), generated from the schema.')
    .action(() => {
      process.stdout.write(renderConfigDocs());
    });
}
