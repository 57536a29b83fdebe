import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ERROR_CODES } from '../../../src/core/errors.ts';

test('every error code is documented in docs/errors.md, and nothing else is', async () => {
  const doc = await readFile(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const documented = new Set([...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));
  for (const code of Object.keys(ERROR_CODES)) assert.ok(documented.has(code), `${code} is not documented`);
  for (const code of documented) assert.ok(code! in ERROR_CODES, `${code} is documented but not in the registry`);
});
