/**
 * Loads a YAML configuration file, validates it against the schema and reports every problem
 * with its line and column, e.g. `sluice.yaml:4:9 log.level: Invalid option: expected one of …`.
 */
import { readFile } from 'node:fs/promises';
import { SluiceError } from '../core/errors.ts';
import { formatYamlProblem, parseYamlDocument } from './parse-yaml-document.ts';
import { ConfigSchema, type Config } from './schema.ts';

/** Parse and validate configuration text; throws SluiceError CONFIG_INVALID listing every problem. */
export function parseConfig(text: string, source = 'config'): Config {
  const doc = parseYamlDocument(text);
  let problems = doc.problems;
  if (problems.length === 0) {
    const result = ConfigSchema.safeParse(doc.value ?? {});
    if (result.success) return result.data;
    problems = doc.zodProblems(result.error);
  }
  const lines = problems.map((p) => formatYamlProblem(source, p));
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
