/**
 * Loads policy files: a directory (its `*.yaml`/`*.yml` files, one level deep, in name order)
 * or single files. Each file is a YAML list of rules or a map with `rules:` and/or `roles:`;
 * files whose top level has `cases:` are policy test cases and are skipped. Every problem in
 * every file is reported at once with its position (`file:line:col rules.3.verbs.0: message`),
 * rule ids (roles' rules included) and role names must be unique across files, and the result
 * is an immutable PolicySet.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { formatYamlProblem, parseYamlDocument, type YamlProblem } from '../config/parse-yaml-document.ts';
import { SluiceError } from '../core/errors.ts';
import { compileRule } from './compile-rule.ts';
import { compileGlob } from './glob.ts';
import type { CompiledRule, PolicySet, Role } from './policy-set.ts';
import { durationMs, PolicyDocumentSchema, RoleRuleSchema, RoleSchema, RuleSchema, type PolicyRule } from './schema.ts';

export interface PolicyFile {
  /** Name used in messages and rule sources (the path as given). */
  source: string;
  text: string;
}

export interface PolicyProblem extends YamlProblem {
  file: string;
}

const isYamlFile = (name: string) => ['.yaml', '.yml'].includes(extname(name)) && !name.startsWith('.');

function isCaseFile(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'cases' in value;
}

/** Compile policy texts into a PolicySet; throws POLICY_INVALID listing every problem. Pure. */
export function parsePolicies(files: readonly PolicyFile[]): PolicySet {
  const problems: PolicyProblem[] = [];
  const rules: CompiledRule[] = [];
  const roles = new Map<string, Role>();
  const seenRules = new Map<string, string>();
  const seenRoles = new Map<string, string>();
  const used: string[] = [];
  const hash = createHash('sha256');
  for (const file of files) {
    const parsed = parseYamlDocument(file.text);
    const add = (ps: YamlProblem[]) => problems.push(...ps.map((p) => ({ ...p, file: file.source })));
    if (parsed.problems.length) {
      add(parsed.problems);
      continue;
    }
    if (parsed.value === undefined || parsed.value === null) {
      used.push(file.source);
      continue;
    }
    if (isCaseFile(parsed.value)) continue;
    used.push(file.source);
    hash.update(`${file.source}\0${file.text}\0`);
    const at = (path: (string | number)[]) => {
      const pos = parsed.locate(path) ?? { line: 1, column: 1 };
      return { file: file.source, line: pos.line, column: pos.column };
    };

    /** Validate and compile one rule (ordinary or in a role); undefined when it has problems. */
    const compileAt = (schema: typeof RuleSchema | typeof RoleRuleSchema, item: unknown, path: (string | number)[]): CompiledRule | undefined => {
      const result = schema.safeParse(item);
      if (!result.success) {
        add(parsed.zodProblems(result.error, path));
        return undefined;
      }
      const source = at(path);
      const compiled = compileRule(result.data as PolicyRule, source);
      if (compiled.problems) {
        for (const p of compiled.problems) {
          const pos = parsed.locate([...path, ...p.path]);
          add([{ path: [...path, ...p.path].join('.'), message: p.message, line: pos?.line, column: pos?.column }]);
        }
        return undefined;
      }
      const idPos = parsed.locate([...path, 'id']);
      const first = seenRules.get(result.data.id);
      if (first) {
        add([{ path: [...path, 'id'].join('.'), message: `duplicate rule id "${result.data.id}" (first defined at ${first})`, line: idPos?.line, column: idPos?.column }]);
        return undefined;
      }
      seenRules.set(result.data.id, `${source.file}:${source.line}:${source.column}`);
      return compiled.rule;
    };

    let ruleItems: unknown[];
    let roleItems: unknown[] = [];
    let prefix: (string | number)[];
    if (Array.isArray(parsed.value)) {
      ruleItems = parsed.value;
      prefix = [];
    } else {
      const doc = PolicyDocumentSchema.safeParse(parsed.value);
      if (!doc.success) {
        add(parsed.zodProblems(doc.error));
        continue;
      }
      ruleItems = doc.data.rules ?? [];
      roleItems = doc.data.roles ?? [];
      prefix = ['rules'];
    }
    ruleItems.forEach((item, i) => {
      const rule = compileAt(RuleSchema, item, [...prefix, i]);
      if (rule) rules.push(rule);
    });

    roleItems.forEach((item, i) => {
      const path = ['roles', i];
      const result = RoleSchema.safeParse(item);
      if (!result.success) add(parsed.zodProblems(result.error, path));
      // The role's rules are checked even when the role itself has problems, so that every
      // problem is reported at once.
      const items = typeof item === 'object' && item !== null && Array.isArray((item as { rules?: unknown }).rules) ? (item as { rules: unknown[] }).rules : [];
      const compiled = items.map((r, j) => compileAt(RoleRuleSchema, r, [...path, 'rules', j]));
      if (!result.success || compiled.some((r) => r === undefined)) return;
      const role = result.data;
      const source = at(path);
      const first = seenRoles.get(role.name);
      if (first) {
        const pos = parsed.locate([...path, 'name']);
        add([{ path: [...path, 'name'].join('.'), message: `duplicate role name "${role.name}" (first defined at ${first})`, line: pos?.line, column: pos?.column }]);
        return;
      }
      seenRoles.set(role.name, `${source.file}:${source.line}:${source.column}`);
      roles.set(
        role.name,
        Object.freeze({
          name: role.name,
          ...(role.description !== undefined ? { description: role.description } : {}),
          requestableBy: { users: role.requestableBy.users?.map(compileGlob) ?? [], groups: role.requestableBy.groups?.map(compileGlob) ?? [] },
          maxDurationMs: durationMs(role.maxDuration),
          review: {
            approvers: role.review?.approvers ?? [],
            minApprovals: role.review?.minApprovals ?? 1,
            ...(role.review?.timeout !== undefined ? { timeoutMs: durationMs(role.review.timeout) } : {}),
            requireReason: role.review?.requireReason ?? false,
          },
          rules: Object.freeze(compiled as CompiledRule[]),
          source,
        }),
      );
    });
  }
  if (problems.length) {
    const lines = problems.map((p) => formatYamlProblem(p.file, p));
    throw new SluiceError('POLICY_INVALID', `invalid policy (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  ${lines.join('\n  ')}`, {
      problems,
    });
  }
  return Object.freeze({ rules: Object.freeze(rules), roles, files: Object.freeze(used), digest: hash.digest('hex') });
}

/** The policy files a path names: the file itself, or a directory's YAML files in name order. */
export async function listPolicyFiles(path: string): Promise<string[]> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw new SluiceError('POLICY_NOT_FOUND', `cannot read policy path ${path}: ${(e as Error).message}`);
  }
  if (!st.isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && isYamlFile(e.name))
    .map((e) => join(path, e.name))
    .sort();
}

/** Load and compile the policies at the given paths (directories or files). */
export async function loadPolicies(paths: string | readonly string[]): Promise<PolicySet> {
  const list = typeof paths === 'string' ? [paths] : paths;
  const names = (await Promise.all(list.map(listPolicyFiles))).flat();
  if (names.length === 0) throw new SluiceError('POLICY_NOT_FOUND', `no policy files (*.yaml) in ${list.join(', ')}`);
  const files = await Promise.all(
    names.map(async (source) => {
      try {
        return { source, text: await readFile(source, 'utf8') };
      } catch (e) {
        throw new SluiceError('POLICY_NOT_FOUND', `cannot read policy file ${source}: ${(e as Error).message}`);
      }
    }),
  );
  return parsePolicies(files);
}
