import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { parseConfig } from '../../../src/config/load-config.ts';
import { configRows, renderConfigDocs } from '../../../src/config/config-docs.ts';
import { SluiceError } from '../../../src/core/errors.ts';

test('an empty file is a valid configuration with documented defaults', () => {
  const cfg = parseConfig('');
  assert.equal(cfg.log.level, 'info');
  assert.equal(cfg.demo.host, '127.0.0.1');
  assert.equal(cfg.emulator.seed, 'demo');
});

test('values are read and typed', () => {
  const cfg = parseConfig('log:\n  level: debug\n  format: pretty\ndemo:\n  kubernetesPort: 6443\n');
  assert.equal(cfg.log.level, 'debug');
  assert.equal(cfg.log.format, 'pretty');
  assert.equal(cfg.demo.kubernetesPort, 6443);
});

test('schema errors carry the line and column of the offending value', () => {
  const text = 'log:\n  level: loud\ndemo:\n  kubernetesPort: 70000\n';
  assert.throws(
    () => parseConfig(text, 'sluice.yaml'),
    (e: unknown) => {
      assert.ok(e instanceof SluiceError);
      assert.equal(e.code, 'CONFIG_INVALID');
      assert.match(e.message, /sluice\.yaml:2:10 log\.level: /);
      assert.match(e.message, /sluice\.yaml:4:19 demo\.kubernetesPort: /);
      return true;
    },
  );
});

test('unknown keys are errors, not silently ignored', () => {
  assert.throws(() => parseConfig('log:\n  levle: debug\n'), /log: Unrecognized key: "levle"|levle/);
  assert.throws(() => parseConfig('listen: 1\n'), /listen/);
});

test('YAML syntax errors and duplicate keys are reported with a position', () => {
  assert.throws(() => parseConfig('log:\n  level: [debug\n', 'c.yaml'), /c\.yaml:\d+:\d+/);
  assert.throws(() => parseConfig('log:\n  level: info\n  level: debug\n', 'c.yaml'), /c\.yaml:3:\d+/);
});

test('every option is documented where it is defined', () => {
  const rows = configRows();
  assert.ok(rows.length >= 10);
  for (const r of rows) assert.ok(r.description.length > 10, `option ${r.key} has no description`);
});

test('docs/config.md is generated from the schema and up to date', async () => {
  const doc = await readFile(new URL('../../../docs/config.md', import.meta.url), 'utf8');
  assert.equal(doc, renderConfigDocs(), 'run `bin/sluice config docs > docs/config.md`');
});

test('examples/sluice.yaml is a valid configuration', async () => {
  const text = await readFile(new URL('../../../examples/sluice.yaml', import.meta.url), 'utf8');
  const cfg = parseConfig(text, 'examples/sluice.yaml');
  assert.equal(cfg.connections.length, 2);
  assert.equal(cfg.identity.issuers[0]?.groupsPrefix, 'idp:');
  assert.equal(cfg.server.tls.mode, 'files');
});

test('a connection needs exactly one credential source', () => {
  assert.throws(() => parseConfig('connections:\n  - name: a\n', 'c.yaml'), /c\.yaml:2:\d+ connections\.0: give exactly one of/);
  assert.throws(() => parseConfig('connections:\n  - name: a\n    server: https://k:6443\n'), /server needs tokenFile/);
  assert.throws(
    () => parseConfig('connections:\n  - { name: a, inCluster: true }\n  - { name: a, inCluster: true }\n'),
    /connection name "a" is used twice/,
  );
});
