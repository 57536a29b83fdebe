/**
 * Loads a YAML configuration file, validates it against the schema and reports every problem
 * with its line and column, e.g. `sluice.yaml:4:9 log.level: Invalid option: expected one of …`.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import { SluiceError } from '../core/errors.ts';
import { ConfigSchema, type Config } from './schema.ts';

export interface ConfigProblem {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

function locate(doc: Document, lc: LineCounter, path: PropertyKey[]): { line: number; col: number } | undefined {
  // Walk up until a node exists (a missing key is reported at its parent).
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as (string | number)[], true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]);
    if (n === 0 && doc.contents?.range) return lc.linePos(doc.contents.range[0]);
  }
  return undefined;
}

/** Parse and validate configuration text; throws SluiceError CONFIG_INVALID listing every problem. */
export function parseConfig(text: string, source = 'config'): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: ConfigProblem[] = [];
  for (const err of doc.errors) {
    const pos = lineCounter.linePos(err.pos[0]);
    problems.push({ path: '', message: err.message.split('\n')[0] ?? err.message, line: pos.line, column: pos.col });
  }
  if (problems.length === 0) {
    const raw: unknown = doc.toJS() ?? {};
    const result = ConfigSchema.safeParse(raw);
    if (result.success) return result.data;
    for (const issue of (result.error as z.ZodError).issues) {
      const pos = locate(doc, lineCounter, issue.path);
      problems.push({ path: issue.path.join('.'), message: issue.message, line: pos?.line, column: pos?.col });
    }
  }
  const lines = problems.map(
    (p) => `${source}${p.line ? `:${p.line}:${p.column ?? 1}` : ''} ${p.path ? `${p.path}: ` : ''}${p.message}`,
  );
  throw new SluiceError('CONFIG_INVALID', `invalid configuration:\n  ${lines.join('\n  ')}`, { problems });
}

/** Load a configuration file; no path → all defaults. */
export async function loadConfig(path?: string): Promise<Config> {
  if (!path) return ConfigSchema.parse({});
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new SluiceError('CONFIG_NOT_FOUND', `cannot read configuration file ${path}: ${(e as Error).message}`);
  }
  return parseConfig(text, path);
}
