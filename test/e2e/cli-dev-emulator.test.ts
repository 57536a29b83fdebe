/** `sluice dev emulator` runs the emulator on its own and writes an admin kubeconfig that works. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runKubectl } from '../../testing/harness/index.ts';

test('sluice dev emulator serves the demo seed to kubectl through the kubeconfig it writes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-dev-emu-'));
  const kubeconfig = join(dir, 'admin.kubeconfig');
  const child = spawn(fileURLToPath(new URL('../../bin/sluice', import.meta.url)), ['dev', 'emulator', '--kubeconfig', kubeconfig], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 100 && !/^ready/m.test(out); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /^emulator: https:\/\/127\.0\.0\.1:\d+$/m);
    const r = await runKubectl({ version: '1.33', kubeconfig, args: ['get', 'namespaces', '-o', 'name'] });
    assert.equal(r.code, 0, r.stderr);
    for (const ns of ['dev', 'prod', 'kube-system']) assert.match(r.stdout, new RegExp(`^namespace/${ns}$`, 'm'));
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
    await rm(dir, { recursive: true, force: true });
  }
  assert.equal(child.exitCode, 0, 'Ctrl-C/SIGTERM stops it cleanly');
});
