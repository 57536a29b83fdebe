import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { SluiceError } from '../../../src/core/errors.ts';
import { loadPolicies } from '../../../src/policy/load-policies.ts';
import { parseTestCases, runPolicyTests, runTestCases } from '../../../src/policy/policy-test.ts';
import { policy } from './helpers.ts';

/** Run the real `bin/sluice policy …` in a child process. */
async function cli(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  const entry = fileURLToPath(new URL('../../../bin/sluice', import.meta.url));
  const child = spawn(entry, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'close')) as [number];
  return { out, err, code };
}

test('the demo policy passes its own test cases (every persona and safe default)', async () => {
  const report = await runPolicyTests('policies/demo', await loadPolicies('policies/demo'));
  for (const r of report.results) assert.ok(r.passed, `${r.case.file}:${r.case.line} ${r.case.name}\n${r.message}`);
  assert.ok(report.passed >= 80, `only ${report.passed} cases`);
  const names = report.results.map((r) => r.case.name).join('\n');
  for (const must of ['nodes/proxy', 'services/proxy', 'pods/proxy', 'bind', 'escalate', 'impersonate users', 'impersonate groups', 'impersonate serviceaccounts', 'TokenRequest', 'kubectl debug']) {
    assert.ok(names.includes(must), `no demo case about ${must}`);
  }
});

test('`sluice policy test policies/demo` exits 0 and prints a summary', async () => {
  const { out, code } = await cli('policy', 'test', 'policies/demo');
  assert.equal(code, 0);
  assert.match(out, /^\d+ passed, 0 failed \(\d+ cases, \d+ rules\)\n$/);
});

test('`sluice policy check` prints the rule count; invalid files exit 2 with line-numbered problems', async () => {
  const { out, code } = await cli('policy', 'check', 'policies/demo');
  assert.equal(code, 0);
  assert.match(out, /^\d+ rules valid \(8 files\)\n$/);
  const dir = await mkdtemp(join(tmpdir(), 'sluice-check-'));
  try {
    await writeFile(join(dir, 'bad.yaml'), '- id: x\n  effect: allow\n  verbs: [get]\n');
    const bad = await cli('policy', 'check', dir);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /bad\.yaml:2:11 0\.effect: an allow rule must name its subjects/);
    assert.match(bad.err, /\[POLICY_INVALID\]\n$/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('failing cases print one FAIL line with a diff, and exit 1', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-cases-'));
  try {
    await writeFile(join(dir, 'policy.yaml'), '- { id: read, effect: allow, subjects: { groups: [dev] }, verbs: [get], resources: [pods] }\n');
    await mkdir(join(dir, 'tests'));
    await writeFile(
      join(dir, 'tests', 'cases.yaml'),
      [
        'cases:',
        '  - name: passes',
        '    principal: { username: bob, groups: [dev] }',
        '    request: { verb: get, resource: pods, namespace: dev }',
        '    expect: allow',
        '  - name: wrong effect',
        '    principal: { username: bob, groups: [dev] }',
        '    request: { verb: delete, resource: pods, namespace: dev, name: x }',
        '    expect: allow',
        '  - name: wrong rules',
        '    principal: { username: bob, groups: [dev] }',
        '    request: { verb: get, resource: pods, namespace: dev }',
        '    expect: allow',
        '    expectRules: [other]',
      ].join('\n'),
    );
    const { out, code } = await cli('policy', 'test', dir);
    assert.equal(code, 1);
    assert.match(out, /FAIL .*cases\.yaml:6 wrong effect\n {4}- expect: allow\n {4}\+ got: {4}deny \(no policy rule allows delete pods x in namespace dev for bob\)\n/);
    assert.match(out, /FAIL .*cases\.yaml:10 wrong rules\n {4}- expectRules: \[other\]\n {4}\+ rules: {7}\[read\]\n/);
    assert.match(out, /1 passed, 2 failed \(3 cases, 1 rules\)\n$/);

    const other = await cli('policy', 'test', join(dir, 'tests'), '--policies', join(dir, 'policy.yaml'));
    assert.equal(other.code, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('case files: shorthand resource/subresource, non-resource paths, and line-numbered format errors', () => {
  const cases = parseTestCases(
    [
      'cases:',
      '  - principal: { username: a }',
      '    request: { verb: create, resource: pods/exec, namespace: dev, name: w }',
      '    expect: deny',
      '  - principal: { username: a, groups: [g] }',
      '    request: { verb: get, path: /version }',
      '    expect: allow',
    ].join('\n'),
    'c.yaml',
  );
  assert.equal(cases[0]!.request.resource, 'pods');
  assert.equal(cases[0]!.request.subresource, 'exec');
  assert.equal(cases[0]!.request.path, '/api/v1/namespaces/dev/pods/w/exec');
  assert.equal(cases[1]!.request.isResourceRequest, false);
  assert.equal(cases[1]!.line, 5);
  const p = policy('- { id: v, effect: allow, subjects: { groups: [g] }, verbs: [get], nonResourceURLs: [/version] }');
  assert.deepEqual(runTestCases(cases, p).results.map((r) => r.passed), [true, true]);

  assert.throws(
    () => parseTestCases('cases:\n  - principal: { username: a }\n    request: { verb: get }\n    expect: maybe\n    extra: 1\n', 'c.yaml'),
    (e: unknown) =>
      e instanceof SluiceError &&
      e.code === 'POLICY_TEST_INVALID' &&
      /c\.yaml:4:13 cases\.0\.expect/.test(e.message) &&
      /c\.yaml:2:5 cases\.0: Unrecognized key: "extra"/.test(e.message),
  );
});
