/**
 * Loads policy files: a directory (its `*.yaml`/`*.yml` files, one level deep, in name order)
 * or single files. Each file is a YAML list of rules or a map with `rules:`; files whose top
 * level has `cases:` are policy test cases and are skipped. Every problem in every file is
 * reported at once with its position (`file:line:col rules.3.verbs.0: message`), rule ids must
 * be unique across files, and the result is an immutable PolicySet.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { formatYamlProblem, parseYamlDocument, type YamlProblem } from '../config/parse-yaml-document.ts';
import { SluiceError } from '../core/errors.ts';
import { compileRule } from './compile-rule.ts';
import type { CompiledRule, PolicySet } from './policy-set.ts';
import { PolicyDocumentSchema, RuleSchema } from './schema.ts';

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
  const seen = new Map<string, string>();
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
    let items: unknown[];
    let prefix: (string | number)[];
    if (Array.isArray(parsed.value)) {
      items = parsed.value;
      prefix = [];
    } else {
      const doc = PolicyDocumentSchema.safeParse(parsed.value);
      if (!doc.success) {
        add(parsed.zodProblems(doc.error));
        continue;
      }
      items = doc.data.rules;
      prefix = ['rules'];
    }
    items.forEach((item, i) => {
      const path = [...prefix, i];
      const result = RuleSchema.safeParse(item);
      if (!result.success) {
        add(parsed.zodProblems(result.error, path));
        return;
      }
      const pos = parsed.locate(path) ?? { line: 1, column: 1 };
      const source = { file: file.source, line: pos.line, column: pos.column };
      const compiled = compileRule(result.data, source);
      if (compiled.problems) {
        for (const p of compiled.problems) {
          const at = parsed.locate([...path, ...p.path]);
          add([{ path: [...path, ...p.path].join('.'), message: p.message, line: at?.line, column: at?.column }]);
        }
        return;
      }
      const idPos = parsed.locate([...path, 'id']);
      const first = seen.get(result.data.id);
      if (first) {
        add([{ path: [...path, 'id'].join('.'), message: `duplicate rule id "${result.data.id}" (first defined at ${first})`, line: idPos?.line, column: idPos?.column }]);
        return;
      }
      seen.set(result.data.id, `${file.source}:${pos.line}:${pos.column}`);
      rules.push(compiled.rule);
    });
  }
  if (problems.length) {
    const lines = problems.map((p) => formatYamlProblem(p.file, p));
    throw new SluiceError('POLICY_INVALID', `invalid policy (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  ${lines.join('\n  ')}`, {
      problems,
    });
  }
  return Object.freeze({ rules: Object.freeze(rules), files: Object.freeze(used), digest: hash.digest('hex') });
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
