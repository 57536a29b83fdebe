#!/usr/bin/env node
// Runs the test suite with Node's built-in test runner and tsx.
// Usage: node scripts/test.mjs [dir-or-file ...]   (default: test/unit test/e2e)
// Node 20's runner takes no globs, so the files are listed here.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const args = process.argv.slice(2);
const targets = args.length ? args : ['test/unit', 'test/e2e'];

function collect(p, out) {
  const abs = resolve(root, p);
  const st = statSync(abs, { throwIfNoEntry: false });
  if (!st) return out;
  if (st.isFile()) out.push(abs);
  else for (const e of readdirSync(abs).sort()) {
    const child = join(abs, e);
    if (statSync(child).isDirectory()) collect(child, out);
    else if (/\.test\.ts$/.test(e)) out.push(child);
  }
  return out;
}

const files = targets.flatMap((t) => collect(t, []));
if (files.length === 0) {
  console.error(`no test files under ${targets.join(', ')}`);
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_NO_WARNINGS: '1' } },
);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
