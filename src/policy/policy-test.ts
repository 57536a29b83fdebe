/**
 * Policy test cases as data: YAML files with `cases:`, each a principal (optionally holding
 * active grants of roles), a request and the expected effect (and optionally the ids of the
 * rules that decide it, whether masking stays on or is lifted, and for audit reads whether the
 * reader sees only their own records). `runPolicyTests` finds
 * the case files under a directory (recursively), decides every case against a PolicySet and
 * reports pass/fail per case with a diff-like message. Parsing and running are pure; only
 * finding and reading the files does I/O.
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { formatYamlProblem, parseYamlDocument, type YamlProblem } from '../config/parse-yaml-document.ts';
import type { Decision, Effect } from '../core/decision.ts';
import { SluiceError } from '../core/errors.ts';
import type { Principal } from '../core/principal.ts';
import type { RequestAttributes } from '../core/request.ts';
import { decide, type ActiveGrant } from './decide.ts';
import type { PolicySet } from './policy-set.ts';
import { TestCaseFileSchema, TestCaseSchema, type TestCaseInput } from './schema.ts';

export interface PolicyTestCase {
  file: string;
  line: number;
  name: string;
  principal: Principal;
  request: RequestAttributes;
  expect: Effect;
  expectRules?: string[];
  /** `lifted`: a `mask: off` rule lifts response masking; `masked`: it stays on. */
  expectMask?: 'masked' | 'lifted';
  /** Audit reads: `self` when every deciding rule says `auditScope: self`; `all` otherwise. */
  expectAuditScope?: 'self' | 'all';
  /** Roles the principal holds an active grant of. */
  grants?: string[];
}

export interface PolicyTestResult {
  case: PolicyTestCase;
  passed: boolean;
  decision: Decision;
  /** Empty when passed; otherwise `-` expected / `+` actual lines. */
  message: string;
}

export interface PolicyTestReport {
  results: PolicyTestResult[];
  passed: number;
  failed: number;
}

function toRequest(r: TestCaseInput['request']): RequestAttributes {
  let resource = r.resource ?? '';
  let subresource = r.subresource;
  const slash = resource.indexOf('/');
  if (slash >= 0 && subresource === '') [resource, subresource] = [resource.slice(0, slash), resource.slice(slash + 1)];
  const isResourceRequest = r.isResourceRequest ?? resource !== '';
  const apiVersion = r.apiVersion ?? (isResourceRequest ? 'v1' : '');
  const base = r.apiGroup ? `/apis/${r.apiGroup}/${apiVersion}` : `/api/${apiVersion}`;
  const path =
    r.path ??
    (isResourceRequest
      ? [base, r.namespace && resource !== 'namespaces' ? `namespaces/${r.namespace}` : '', resource, r.name, subresource].filter(Boolean).join('/')
      : '/');
  return {
    connection: r.connection,
    verb: r.verb,
    apiGroup: r.apiGroup,
    apiVersion,
    resource,
    subresource,
    namespace: r.namespace,
    name: r.name,
    isResourceRequest,
    path,
    ...(r.object !== undefined ? { object: r.object } : {}),
  };
}

/** Parse one case file; throws POLICY_TEST_INVALID listing every problem. Pure. */
export function parseTestCases(text: string, source: string): PolicyTestCase[] {
  const parsed = parseYamlDocument(text);
  const problems: YamlProblem[] = [...parsed.problems];
  const cases: PolicyTestCase[] = [];
  if (problems.length === 0) {
    const file = TestCaseFileSchema.safeParse(parsed.value);
    if (!file.success) problems.push(...parsed.zodProblems(file.error));
    else {
      file.data.cases.forEach((item, i) => {
        const c = TestCaseSchema.safeParse(item);
        if (!c.success) {
          problems.push(...parsed.zodProblems(c.error, ['cases', i]));
          return;
        }
        const line = parsed.locate(['cases', i])?.line ?? 1;
        const request = toRequest(c.data.request);
        const p = c.data.principal;
        cases.push({
          file: source,
          line,
          name: c.data.name ?? `${p.username}: ${request.verb} ${request.resource || request.path}`,
          principal: { issuer: p.issuer, subject: p.subject ?? p.username, username: p.username, groups: p.groups, ...(p.kind ? { kind: p.kind } : {}) },
          request,
          expect: c.data.expect,
          ...(c.data.expectRules ? { expectRules: c.data.expectRules } : {}),
          ...(c.data.expectMask ? { expectMask: c.data.expectMask } : {}),
          ...(c.data.expectAuditScope ? { expectAuditScope: c.data.expectAuditScope } : {}),
          ...(c.data.grants ? { grants: c.data.grants } : {}),
        });
      });
    }
  }
  if (problems.length) {
    const lines = problems.map((p) => formatYamlProblem(source, p));
    throw new SluiceError('POLICY_TEST_INVALID', `invalid policy test cases:\n  ${lines.join('\n  ')}`, { problems });
  }
  return cases;
}

const list = (xs: readonly string[]) => `[${[...xs].sort().join(', ')}]`;

/** The latest time a Date can hold: test grants never run out (decide() reads no clock anyway). */
const FOREVER = new Date(8_640_000_000_000_000);

/** Active grants of the named roles, held by the case's principal (id `test:<role>`). */
function testGrants(c: PolicyTestCase): ActiveGrant[] {
  const p = c.principal;
  return (c.grants ?? []).map((role) => ({ id: `test:${role}`, role, username: p.username, issuer: p.issuer, subject: p.subject, activeUntil: FOREVER }));
}

/** Why the decision's response is masked or not, for a failed `expectMask`. */
function maskReason(d: Decision): string {
  if (d.mask.lifted) return `(lifted by ${list(d.mask.by)})`;
  if (d.effect === 'deny') return '(the request is denied)';
  const on = d.matched.filter((r) => r.mask === 'on').map((r) => r.id);
  if (on.length) return `(kept by mask: on in ${list(on)})`;
  const failed = d.matched.filter((r) => r.mask === 'off' && r.conditionError).map((r) => r.id);
  return failed.length ? `(the mask: off rules ${list(failed)} match only through a condition error)` : '(no matching rule says mask: off)';
}

/** Why the decision's audit scope is what it is, for a failed `expectAuditScope`. */
function auditScopeReason(d: Decision): string {
  if (d.effect === 'deny') return '(the request is denied)';
  if (d.auditScope === 'self') return `(every deciding rule says auditScope: self: ${list(d.rules.map((r) => r.id))})`;
  const open = d.rules.filter((r) => r.auditScope === undefined).map((r) => r.id);
  return `(no auditScope in ${list(open)})`;
}

/** Decide each case and compare. Pure. */
export function runTestCases(cases: readonly PolicyTestCase[], policies: PolicySet): PolicyTestReport {
  const results = cases.map((c): PolicyTestResult => {
    const decision = decide(c.principal, c.request, policies, { grants: testGrants(c) });
    const got = decision.rules.map((r) => r.id);
    const diff: string[] = [];
    for (const role of c.grants ?? []) {
      if (!policies.roles.has(role)) diff.push(`- grants: role "${role}" is not defined in the policy`);
    }
    if (decision.effect !== c.expect) {
      diff.push(`- expect: ${c.expect}`, `+ got:    ${decision.effect} (${decision.message})`);
    }
    if (c.expectRules && list(c.expectRules) !== list(got)) {
      diff.push(`- expectRules: ${list(c.expectRules)}`, `+ rules:       ${list(got)}`);
    }
    const mask = decision.mask.lifted ? 'lifted' : 'masked';
    if (c.expectMask && c.expectMask !== mask) diff.push(`- expectMask: ${c.expectMask}`, `+ mask:       ${mask} ${maskReason(decision)}`);
    const scope = decision.auditScope ?? 'all';
    if (c.expectAuditScope && c.expectAuditScope !== scope) {
      diff.push(`- expectAuditScope: ${c.expectAuditScope}`, `+ auditScope:       ${scope} ${auditScopeReason(decision)}`);
    }
    for (const e of decision.errors) diff.push(`  error in rule ${e.ruleId}: ${e.message}`);
    const passed = diff.filter((d) => !d.startsWith('  ')).length === 0;
    return { case: c, passed, decision, message: passed ? '' : diff.join('\n') };
  });
  const failed = results.filter((r) => !r.passed).length;
  return { results, passed: results.length - failed, failed };
}

/** YAML files under `dir` (recursively) whose top level has `cases:`, in path order. */
export async function findTestCaseFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch (e) {
      throw new SluiceError('POLICY_NOT_FOUND', `cannot read test-case directory ${d}: ${(e as Error).message}`);
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') await walk(p);
      else if (e.isFile() && ['.yaml', '.yml'].includes(extname(e.name))) {
        if (/^cases\s*:/m.test(await readFile(p, 'utf8'))) out.push(p);
      }
    }
  };
  await walk(dir);
  return out;
}

/** Find, parse and run every case file under `dir` against `policies`. */
export async function runPolicyTests(dir: string, policies: PolicySet): Promise<PolicyTestReport> {
  const files = await findTestCaseFiles(dir);
  if (files.length === 0) throw new SluiceError('POLICY_TEST_INVALID', `no policy test-case files (YAML with "cases:") under ${dir}`);
  const cases = (await Promise.all(files.map(async (f) => parseTestCases(await readFile(f, 'utf8'), f)))).flat();
  return runTestCases(cases, policies);
}
