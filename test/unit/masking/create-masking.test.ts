import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MaskingSchema } from '../../../src/config/schema.ts';
import { isSluiceError } from '../../../src/core/errors.ts';
import { createMasking } from '../../../src/masking/create-masking.ts';
import { maskObject } from '../../../src/masking/kube/index.ts';

const cfg = (o: Record<string, unknown> = {}) => MaskingSchema.parse(o);
const refused = (o: Record<string, unknown>, readFile?: (p: string) => Buffer): string => {
  try {
    createMasking(cfg(o), readFile ? { readFile } : {});
  } catch (e) {
    assert.ok(isSluiceError(e) && e.code === 'MASKING_INVALID', String(e));
    return e.message;
  }
  throw new Error(`not refused: ${JSON.stringify(o)}`);
};
const pod = (env: { name: string; value: string }[]) => ({ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x', env }] } });
const envOf = (o: unknown) => (o as ReturnType<typeof pod>).spec.containers[0]!.env.map((e) => e.value);

test('defaults: on, Secret values marked, env values masked by name', () => {
  const m = createMasking(cfg())!;
  assert.ok(m);
  const s = maskObject({ kind: 'Secret', apiVersion: 'v1', data: { a: 'aGk=' } }, m.kube).obj as { data: Record<string, string> };
  assert.deepEqual(s.data, { a: 'REDACTED' });
  assert.deepEqual(envOf(maskObject(pod([{ name: 'DB_PASSWORD', value: 'hunter2' }, { name: 'MODE', value: 'x' }]), m.kube).obj), ['REDACTED', 'x']);
});

test('enabled: false means no masking at all', () => {
  assert.equal(createMasking(cfg({ enabled: false })), undefined);
});

test('hashing needs a key file of at least 32 bytes; the key gives stable hmac markers', () => {
  assert.match(refused({ secretValues: 'hash' }), /needs masking.hashKeyFile/);
  assert.match(refused({ secretValues: 'hash', hashKeyFile: '/k' }, () => Buffer.from('short')), /at least 32/);
  assert.match(
    refused({ secretValues: 'hash', hashKeyFile: '/missing' }, () => {
      throw new Error('ENOENT');
    }),
    /cannot be read/,
  );
  const m = createMasking(cfg({ secretValues: 'hash', hashKeyFile: '/k' }), { readFile: () => Buffer.alloc(32, 7) })!;
  const s = maskObject({ kind: 'Secret', apiVersion: 'v1', data: { a: 'aGk=', b: 'aGk=' } }, m.kube).obj as { data: Record<string, string> };
  assert.match(s.data.a!, /^hmac[0-9a-f]{20}$/);
  assert.equal(s.data.a, s.data.b);
});

test('operator rules and detectors are checked at start-up', () => {
  assert.match(refused({ rules: [{ kind: 'X', paths: ['spec..password'] }] }), /masking/);
  assert.match(refused({ detectors: { custom: [{ name: 'bad', pattern: '(a+)+' }] } }), /bad/);
  assert.match(refused({ detectors: { disable: ['no-such-detector'] } }), /no-such-detector/);
  assert.match(refused({ sensitiveEnvNames: '(' }), /sensitiveEnvNames does not compile/);
});

test('sensitiveEnvNames: false leaves env values to the detectors; a pattern replaces the default', () => {
  const off = createMasking(cfg({ sensitiveEnvNames: false }))!;
  assert.deepEqual(envOf(maskObject(pod([{ name: 'DB_PASSWORD', value: 'hunter2' }]), off.kube).obj), ['hunter2']);
  const mine = createMasking(cfg({ sensitiveEnvNames: '^acme_' }))!;
  assert.deepEqual(envOf(maskObject(pod([{ name: 'ACME_X', value: 'v' }, { name: 'DB_PASSWORD', value: 'hunter2' }]), mine.kube).obj), ['REDACTED', 'hunter2']);
});
