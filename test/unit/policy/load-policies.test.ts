import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SluiceError } from '../../../src/core/errors.ts';
import { loadPolicies, parsePolicies } from '../../../src/policy/load-policies.ts';

function problemsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SluiceError);
    assert.equal(e.code, 'POLICY_INVALID');
    return e.message;
  }
  assert.fail('expected POLICY_INVALID');
}

test('a file is a list of rules or a {rules: [...]} document; empty files are fine', () => {
  const a = parsePolicies([{ source: 'a.yaml', text: '- { id: a, effect: deny, verbs: [delete] }\n' }]);
  const b = parsePolicies([{ source: 'b.yaml', text: 'rules:\n  - { id: b, effect: deny, verbs: [delete] }\n' }]);
  const c = parsePolicies([{ source: 'c.yaml', text: '# nothing yet\n' }]);
  assert.deepEqual([a.rules.length, b.rules.length, c.rules.length], [1, 1, 0]);
  assert.match(a.digest, /^[0-9a-f]{64}$/);
  assert.notEqual(a.digest, b.digest);
});

test('schema problems are reported with file:line:col and the path of the field, all at once', () => {
  const text = [
    'rules:', //                                   1
    '  - id: ok', //                               2
    '    effect: allow', //                        3
    '    subjects: { groups: [dev] }', //          4
    '    verbs: [GET]', //                         5
    '    resources: [pods]', //                    6
    '  - id: two', //                              7
    '    effect: permit', //                       8
    '  - id: three', //                            9
    '    effect: deny', //                         10
    '    namespace: [dev]', //                     11
  ].join('\n');
  const msg = problemsOf(() => parsePolicies([{ source: 'p.yaml', text }]));
  assert.match(msg, /p\.yaml:5:13 rules\.0\.verbs\.0: a verb is a lower-case word/);
  assert.match(msg, /p\.yaml:8:13 rules\.1\.effect: /);
  assert.match(msg, /p\.yaml:9:5 rules\.2: Unrecognized key: "namespace"/);
  assert.match(msg, /3 problems/);
});

test('allow and review rules must name subjects, verbs and resources; review blocks only on review rules', () => {
  const msg = problemsOf(() =>
    parsePolicies([
      {
        source: 'p.yaml',
        text: '- id: wide\n  effect: allow\n- id: rv\n  effect: deny\n  review: { minApprovals: 2 }\n- id: m\n  effect: allow\n  message: hi\n  subjects: { users: [a] }\n  verbs: [get]\n  resources: [pods]\n',
      },
    ]),
  );
  assert.match(msg, /p\.yaml:2:11 0\.effect: an allow rule must name its subjects/);
  assert.match(msg, /0\.effect: an allow rule must list its verbs/);
  assert.match(msg, /0\.effect: an allow rule must list resources or nonResourceURLs/);
  assert.match(msg, /p\.yaml:5:11 1\.review: the review block belongs to review rules/);
  assert.match(msg, /p\.yaml:8:12 2\.message: message is shown only for deny and review rules/);
});

test('nonResourceURLs cannot be mixed with resource fields; bad patterns and durations are rejected', () => {
  const msg = problemsOf(() =>
    parsePolicies([
      {
        source: 'p.yaml',
        text: [
          '- { id: a, effect: deny, nonResourceURLs: [/x], resources: [pods] }',
          '- { id: b, effect: deny, nonResourceURLs: ["/a*b"] }',
          '- { id: c, effect: deny, resources: [pods/log/x] }',
          '- { id: d, effect: review, subjects: { users: [a] }, verbs: [get], resources: [pods], review: { timeout: 15 minutes } }',
          '- { id: e, effect: deny, subjects: {} }',
        ].join('\n'),
      },
    ]),
  );
  assert.match(msg, /p\.yaml:1:\d+ 0\.resources: resources cannot be combined with nonResourceURLs/);
  assert.match(msg, /p\.yaml:2:\d+ 1\.nonResourceURLs\.0: a non-resource URL/);
  assert.match(msg, /p\.yaml:3:\d+ 2\.resources\.0: a resource is/);
  assert.match(msg, /p\.yaml:4:\d+ 3\.review\.timeout: a duration/);
  assert.match(msg, /p\.yaml:5:\d+ 4\.subjects: name at least one of users, groups/);
});

test('a CEL condition that does not compile or is not a bool is reported at its line', () => {
  const text = [
    '- id: a',
    '  effect: deny',
    '  condition: object.spec.replicas >',
    '- id: b',
    '  effect: deny',
    '  condition: request.verb + "x"',
    '- id: c',
    '  effect: deny',
    '  condition: nosuchvar == 1',
  ].join('\n');
  const msg = problemsOf(() => parsePolicies([{ source: 'cel.yaml', text }]));
  assert.match(msg, /cel\.yaml:3:14 0\.condition: CEL: Unexpected token: EOF/);
  assert.match(msg, /cel\.yaml:6:14 1\.condition: CEL: must be a bool expression, not string/);
  assert.match(msg, /cel\.yaml:9:14 2\.condition: CEL: Unknown variable: nosuchvar/);
});

test('YAML syntax errors and duplicate keys carry a position', () => {
  assert.match(problemsOf(() => parsePolicies([{ source: 's.yaml', text: '- id: [a\n' }])), /s\.yaml:\d+:\d+ /);
  assert.match(problemsOf(() => parsePolicies([{ source: 's.yaml', text: '- id: a\n  id: b\n  effect: deny\n' }])), /s\.yaml:2:\d+ /);
  assert.match(problemsOf(() => parsePolicies([{ source: 's.yaml', text: 'just a string\n' }])), /s\.yaml:1:1 /);
});

test('rule ids must be unique across files; the duplicate names the first definition', () => {
  const msg = problemsOf(() =>
    parsePolicies([
      { source: 'a.yaml', text: '- { id: same, effect: deny, verbs: [delete] }\n' },
      { source: 'b.yaml', text: '# x\n- id: same\n  effect: deny\n' },
    ]),
  );
  assert.match(msg, /b\.yaml:2:7 0\.id: duplicate rule id "same" \(first defined at a\.yaml:1:3\)/);
});

test('loadPolicies reads a directory one level deep, skips case files and reports missing paths', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-policy-'));
  try {
    await writeFile(join(dir, '10-a.yaml'), '- { id: a, effect: deny, verbs: [delete] }\n');
    await writeFile(join(dir, '20-b.yml'), 'rules:\n  - { id: b, effect: deny, verbs: [delete] }\n');
    await writeFile(join(dir, 'cases.yaml'), 'cases: []\n');
    await writeFile(join(dir, 'README.md'), '# not a policy\n');
    await mkdir(join(dir, 'tests'));
    await writeFile(join(dir, 'tests', 'broken.yaml'), '- [not a rule\n');
    const set = await loadPolicies(dir);
    assert.deepEqual(set.rules.map((r) => r.id), ['a', 'b']);
    assert.deepEqual(set.files, [join(dir, '10-a.yaml'), join(dir, '20-b.yml')]);
    assert.equal(set.rules[1]!.source.file, join(dir, '20-b.yml'));
    const single = await loadPolicies([join(dir, '20-b.yml')]);
    assert.deepEqual(single.rules.map((r) => r.id), ['b']);
    await assert.rejects(loadPolicies(join(dir, 'nope')), (e: unknown) => e instanceof SluiceError && e.code === 'POLICY_NOT_FOUND');
    await assert.rejects(loadPolicies(join(dir, 'tests', 'broken.yaml')), (e: unknown) => e instanceof SluiceError && e.code === 'POLICY_INVALID');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the demo policy is valid', async () => {
  const set = await loadPolicies('policies/demo');
  assert.ok(set.rules.length >= 15);
  assert.ok(set.rules.every((r) => r.source.file.startsWith('policies/demo/')));
});
