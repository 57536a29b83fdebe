/**
 * `bin/sluice approvals|approve|deny|access` run as a real process against the control API world
 * of ../control/control-fixture.ts (real HTTPS, real identity provider, in-test service).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Approval } from '../../../src/approval/types.ts';
import { requestApproval, startControlWorld, type ControlWorld } from '../control/control-fixture.ts';

const sluice = fileURLToPath(new URL('../../../bin/sluice', import.meta.url));

interface Run {
  stdout: string;
  stderr: string;
  code: number;
}

describe('sluice approvals and access', { timeout: 180_000 }, () => {
  let w: ControlWorld;
  let cwd: string;
  let bobs: Approval;
  let carols: Approval;
  // No SLUICE_* from the developer's shell.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SLUICE_')));

  function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
    return new Promise((resolve) => {
      execFile(sluice, args, { cwd, env: { ...env, ...extraEnv } }, (err, stdout, stderr) => {
        resolve({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? 1) : 0 });
      });
    });
  }
  /** Run as `user` against the world's server. */
  const as = async (user: string, ...args: string[]): Promise<Run> => cli([...args, '--token', await w.token(user), '--server', w.url, '--ca', w.caFile]);

  before(async () => {
    w = await startControlWorld();
    cwd = mkdtempSync(join(tmpdir(), 'sluice-approvals-cli-'));
    bobs = w.service.add(requestApproval({ requester: w.person('bob', ['developers']), reason: 'web-1 is wedged' }));
    carols = w.service.add(
      requestApproval({ requester: w.person('carol', ['approvers']), requirements: [{ ruleId: 'kube-system', approvers: ['sre'], minApprovals: 1 }] }),
    );
    await Promise.all(['alice', 'bob', 'carol'].map((u) => w.token(u)));
  });

  after(async () => {
    await w?.stop();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  test('approvals: a table of pending approvals; DECIDE marks what you may decide', async () => {
    const r = await as('alice', 'approvals');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^ID\s+AGE\s+REQUESTER\s+WHAT\s+STATE\s+APPROVALS\s+DECIDE\s+EXPIRES$/);
    const row = lines.find((l) => l.startsWith(bobs.id.slice(0, 8)));
    assert.ok(row, r.stdout);
    assert.match(row, /^\w{8}\s+2m\s+bob\s+delete pods\/web-1 -n prod @demo\s+pending\s+0\/1\s+you\s+in (9m\d+s|10m)$/);
    assert.ok(lines.some((l) => l.startsWith(carols.id.slice(0, 8))));

    const forBob = await as('bob', 'approvals', 'list');
    assert.equal(forBob.code, 0, forBob.stderr);
    assert.match(forBob.stdout, new RegExp(`${bobs.id.slice(0, 8)}.*pending\\s+0/1\\s+-\\s`));
    assert.ok(!forBob.stdout.includes(carols.id.slice(0, 8)), 'bob may not see it');
  });

  test('approvals -o json prints the API JSON; token, server and CA also come from the environment', async () => {
    const r = await cli(['approvals', '-o', 'json'], { SLUICE_TOKEN: await w.token('alice'), SLUICE_SERVER: w.url, SLUICE_CA: w.caFile });
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout) as { approvals: { id: string; canDecide: boolean; createdAt: string }[] };
    const b = json.approvals.find((a) => a.id === bobs.id);
    assert.equal(b?.canDecide, true);
    assert.equal(b?.createdAt, bobs.createdAt.toISOString());
  });

  test('the demo gateway and its CA come from the demo state file', async () => {
    const dir = join(cwd, '.sluice', 'demo');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'demo.json'),
      JSON.stringify({ version: 1, identityProvider: { issuer: w.idp.issuer }, gateway: { url: w.url, caFile: w.caFile } }),
    );
    try {
      const r = await cli(['approvals', '--mine', '-o', 'json', '--token', await w.token('bob')]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok((JSON.parse(r.stdout) as { approvals: { id: string }[] }).approvals.some((a) => a.id === bobs.id));
    } finally {
      rmSync(join(cwd, '.sluice'), { recursive: true, force: true });
    }
  });

  test('approvals show: requester, rules, the masked request, requirements, votes', async () => {
    const r = await as('alice', 'approvals', 'show', bobs.id.slice(0, 8));
    assert.equal(r.code, 0, r.stderr);
    for (const re of [
      new RegExp(`^id:\\s+${bobs.id}$`, 'm'),
      /^state:\s+pending$/m,
      /^requester:\s+bob \(developers\)$/m,
      /^rules:\s+prod-delete-needs-approval$/m,
      /^message:\s+deleting in prod needs an approver$/m,
      /^reason:\s+web-1 is wedged$/m,
      /^you can decide:\s+yes$/m,
      /^ {2}prod-delete-needs-approval: 1 approval from approvers$/m,
      /^votes: \(none\)$/m,
      /^ {2}DELETE \/api\/v1\/namespaces\/prod\/pods\/web-1\?gracePeriodSeconds=0$/m,
      /^ {2}verb:\s+delete$/m,
      /^ {2}namespace:\s+prod$/m,
      /^ {4}\{"kind":"DeleteOptions"/m,
    ])
      assert.match(r.stdout, re);
    const json = await as('alice', 'approvals', 'show', bobs.id, '-o', 'json');
    assert.equal((JSON.parse(json.stdout) as { id: string }).id, bobs.id);
  });

  test('approve and deny (also as top-level shortcuts)', async () => {
    const one = w.service.add(requestApproval({ requester: w.person('bob', ['developers']) }));
    const r = await as('carol', 'approvals', 'approve', one.id.slice(0, 8), '--reason', 'go ahead');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `approved ${one.id.slice(0, 8)} (delete pods/web-1 -n prod @demo)\n`);
    assert.equal(w.service.approvals.find((a) => a.id === one.id)?.votes[0]?.reason, 'go ahead');

    const two = w.service.add(requestApproval({ requester: w.person('bob', ['developers']) }));
    const d = await as('alice', 'deny', two.id.slice(0, 8), '--reason', 'change freeze');
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /^denied \w{8} /);
    assert.equal(w.service.approvals.find((a) => a.id === two.id)?.state, 'denied');

    const three = w.service.add(requestApproval({ requester: w.person('bob', ['developers']) }));
    const a = await as('alice', 'approve', three.id, '-o', 'json');
    assert.equal(a.code, 0, a.stderr);
    assert.equal((JSON.parse(a.stdout) as { state: string }).state, 'approved');
  });

  test('deny without --reason is a usage error', async () => {
    for (const args of [['approvals', 'deny', bobs.id], ['deny', bobs.id]]) {
      const r = await as('alice', ...args);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /required option '--reason <text>' not specified/);
    }
    assert.equal(w.service.approvals.find((a) => a.id === bobs.id)?.state, 'pending');
  });

  test('errors: API codes pass through; no token; unreachable or untrusted server', async () => {
    const own = await as('bob', 'approve', bobs.id);
    assert.equal(own.code, 2);
    assert.match(own.stderr, /^sluice: .+ \[APPROVAL_FORBIDDEN\]\n$/);
    const missing = await as('bob', 'approvals', 'show', 'fedcba98');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /\[APPROVAL_NOT_FOUND\]/);

    const noToken = await cli(['approvals', '--server', w.url, '--ca', w.caFile]);
    assert.equal(noToken.code, 2);
    assert.match(noToken.stderr, /no access token: pass --token <jwt> or set SLUICE_TOKEN.*\[AUTHN_MISSING\]/);

    const bad = await cli(['approvals', '--token', 'not-a-jwt', '--server', w.url, '--ca', w.caFile]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /\[AUTHN_INVALID\]/);

    const down = await cli(['approvals', '--token', await w.token('bob'), '--server', 'https://127.0.0.1:1']);
    assert.equal(down.code, 2);
    assert.match(down.stderr, /^sluice: cannot reach the control API at https:\/\/127\.0\.0\.1:1: connection refused.*\[CONTROL_API_UNAVAILABLE\]\n$/);

    const untrusted = await cli(['approvals', '--token', await w.token('bob'), '--server', w.url]);
    assert.equal(untrusted.code, 2);
    assert.match(untrusted.stderr, /not trusted.*--ca.*\[CONTROL_API_UNAVAILABLE\]/);
  });

  test('reason and revoke', async () => {
    const r = await as('bob', 'approvals', 'reason', bobs.id.slice(0, 8), 'the pod is stuck terminating');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^reason recorded for \w{8} .*approvers can decide now\n$/);
    const { request: _r, ...base } = requestApproval({ requester: w.person('bob', ['developers']), connection: '' });
    const g = w.service.add({ ...base, kind: 'grant', state: 'approved', grant: { role: 'prod-write', durationMs: 600_000, activeUntil: new Date(Date.now() + 600_000) } });
    const v = await as('bob', 'approvals', 'revoke', g.id.slice(0, 8), '--reason', 'done early');
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout, `revoked ${g.id.slice(0, 8)} (role prod-write 10m)\n`);
  });

  test('access request, roles and list', async () => {
    const r = await as('bob', 'access', 'request', 'prod-write', '--duration', '30m', '--reason', 'hotfix');
    assert.equal(r.code, 0, r.stderr);
    const id = /^access request (\S+) for role prod-write \(30m\) is pending$/m.exec(r.stdout)?.[1];
    assert.ok(id, r.stdout);
    assert.match(r.stdout, /wait for an approver/);

    const over = await as('bob', 'access', 'request', 'prod-write', '--duration', '3h', '--reason', 'x');
    assert.equal(over.code, 2);
    assert.match(over.stderr, /\[APPROVAL_INVALID\]/);

    const roles = await as('bob', 'access', 'roles');
    assert.equal(roles.code, 0, roles.stderr);
    assert.match(roles.stdout, /^ROLE\s+MAX DURATION\s+REQUESTABLE BY\s+DESCRIPTION\nprod-write\s+1h\s+developers\s+write access in prod\n$/);

    const list = await as('bob', 'access', 'list');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^ID\s+ROLE\s+DURATION\s+STATE\s+ACTIVE UNTIL\s+REQUESTED\s+REASON$/m);
    assert.match(list.stdout, new RegExp(`^${id.slice(0, 8)}\\s+prod-write\\s+30m\\s+pending\\s+-\\s+\\d+[smhd] ago\\s+hotfix$`, 'm'));
    const json = JSON.parse((await as('bob', 'access', 'list', '-o', 'json')).stdout) as { approvals: { kind: string }[] };
    assert.ok(json.approvals.length > 0 && json.approvals.every((a) => a.kind === 'grant'));
  });

  test('approvals --watch prints changes as they happen until Ctrl-C', async () => {
    const child = spawn(sluice, ['approvals', '--watch', '--token', await w.token('alice'), '--server', w.url, '--ca', w.caFile], { cwd, env });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const until = async (what: string, ok: () => boolean): Promise<void> => {
      const end = Date.now() + 15_000;
      while (!ok()) {
        if (Date.now() > end) assert.fail(`timed out waiting for ${what}: ${out} ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await until('the pending approvals', () => out.includes(carols.id.slice(0, 8)));
      assert.match(out, new RegExp(`pending\\s+${carols.id.slice(0, 8)}\\s+carol\\s+delete pods/web-1 -n prod @demo\\s+pending 0/1\\s+\\(you can decide\\)`));
      const fresh = w.service.add(requestApproval({ requester: w.person('bob', ['developers']) }));
      w.service.emit('approval.requested', fresh, w.person('bob', ['developers']));
      await until('the new request', () => out.includes(fresh.id.slice(0, 8)));
      assert.match(out, new RegExp(`requested\\s+${fresh.id.slice(0, 8)}\\s+bob\\s+delete pods/web-1 -n prod @demo\\s+pending 0/1`));

      // The gateway ends the stream: the CLI reconnects, and the new snapshot repeats nothing.
      const printed = out;
      w.api.close();
      await until('the reconnect notice', () => /reconnecting in 1s/.test(err));
      const later = w.service.add(requestApproval({ requester: w.person('bob', ['developers']) }));
      const deadline = Date.now() + 10_000;
      while (!out.includes(later.id.slice(0, 8)) && Date.now() < deadline) {
        w.service.emit('approval.requested', later);
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(out.includes(later.id.slice(0, 8)), `${out}\n${err}`);
      assert.ok(!out.slice(printed.length).includes(fresh.id.slice(0, 8)), 'nothing printed twice');
      child.kill('SIGINT');
      assert.equal(await exited, 0, err);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
