/**
 * Parses YAML text into a value while keeping positions, so that schema problems found later
 * can be reported as `file:line:column path: message`. Shared by the loaders that validate YAML
 * against a zod schema (policies, policy test cases); and the configuration loader.
 */
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';

/** One problem found in a YAML file; `path` is the dotted path of the offending value. */
export interface YamlProblem {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export interface ParsedYamlDocument {
  /** The plain JavaScript value (undefined when the file is empty or has syntax errors). */
  value: unknown;
  /** YAML syntax problems (with positions); empty when the text parsed. */
  problems: YamlProblem[];
  /** Position of the value at `path`, or of its nearest existing parent. */
  locate(path: readonly PropertyKey[]): { line: number; column: number } | undefined;
  /** Turn zod issues into positioned problems; `prefix` is prepended to each issue's path. */
  zodProblems(error: z.ZodError, prefix?: readonly PropertyKey[]): YamlProblem[];
}

function locateIn(doc: Document, lc: LineCounter, path: readonly PropertyKey[]): { line: number; column: number } | undefined {
  // Walk up until a node exists (a missing key is reported at its parent).
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as (string | number)[], true);
    if (isNode(node) && node.range) {
      const p = lc.linePos(node.range[0]);
      return { line: p.line, column: p.col };
    }
    if (n === 0 && doc.contents?.range) {
      const p = lc.linePos(doc.contents.range[0]);
      return { line: p.line, column: p.col };
    }
  }
  return undefined;
}

/** Parse YAML text (duplicate keys are errors); never throws. */
export function parseYamlDocument(text: string): ParsedYamlDocument {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: YamlProblem[] = doc.errors.map((err) => {
    const pos = lineCounter.linePos(err.pos[0]);
    return { path: '', message: err.message.split('\n')[0] ?? err.message, line: pos.line, column: pos.col };
  });
  const value: unknown = problems.length === 0 ? doc.toJS({ maxAliasCount: 100 }) : undefined;
  const locate = (path: readonly PropertyKey[]) => locateIn(doc, lineCounter, path);
  return {
    value,
    problems,
    locate,
    zodProblems(error, prefix = []) {
      return error.issues.map((issue) => {
        const path = [...prefix, ...issue.path];
        const pos = locate(path);
        return { path: path.map(String).join('.'), message: issue.message, line: pos?.line, column: pos?.column };
      });
    },
  };
}

/** `file:line:col path: message` (position and path left out when unknown). */
export function formatYamlProblem(source: string, p: YamlProblem): string {
  return `${source}${p.line ? `:${p.line}:${p.column ?? 1}` : ''} ${p.path ? `${p.path}: ` : ''}${p.message}`;
}
