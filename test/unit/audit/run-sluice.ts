/** Runs `bin/sluice <args>` in a folder and returns its output and exit code (0 on success), for the audit CLI tests. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SLUICE = fileURLToPath(new URL('../../../bin/sluice', import.meta.url));
const run = promisify(execFile);

export interface CliResult {
  stdout: string;
  stderr: string;
  code: number;
}

export async function runSluice(cwd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(SLUICE, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as CliResult;
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}
