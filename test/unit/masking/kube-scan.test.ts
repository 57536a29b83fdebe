// The scanner of the streaming Kubernetes masker (src/masking/kube/kube-json-masker.ts) on what
// its shortcuts rely on: control characters found 4 bytes at a time in ASCII chunks (wherever a
// chunk starts in memory), escapes checked in the scan and decoded only where something reads
// them, numbers of plain digits accepted without the full check, rule keys told apart by their
// length before they are decoded, the rules of a list's kind looked up once, replacement text
// encoded into the output buffer. Each is checked against JSON.parse (what is refused) and
// against maskObject and the full parse (what comes out).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createKubeJsonMasker, createKubeMasking, defaultMaskRules, KubeMaskError, maskObject, type KubeMasking, type MaskRule } from '../../../src/masking/kube/index.ts';
import { A_JWT, AN_AWS_KEY, chunks, listJson, pod, rng, secret, secretItem, standInDetectors } from './kube-fixtures.ts';

const detectors = standInDetectors();
const masking = createKubeMasking({ detectors });

/**
 * Streams `body` through a new masker: in chunks of `chunk` bytes, or cut at `cuts`; each chunk
 * copied to `shift` bytes into a buffer of its own, so that chunks start at every alignment.
 */
async function mask(
  body: string | Buffer,
  opts: { chunk?: number; cuts?: number[]; shift?: number; masking?: KubeMasking; fastPath?: boolean; maxElementBytes?: number } = {},
): Promise<{ text: string; error: KubeMaskError | null }> {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const m = createKubeJsonMasker({ masking: opts.masking ?? masking, fastPath: opts.fastPath, maxElementBytes: opts.maxElementBytes });
  const out: Buffer[] = [];
  m.on('data', (b: Buffer) => out.push(b));
  const error = await new Promise<unknown>((resolve) => {
    m.on('error', resolve);
    m.on('end', () => resolve(null));
    let parts: Buffer[];
    if (opts.cuts) {
      parts = [];
      let at = 0;
      for (const c of [...opts.cuts, buf.length]) {
        parts.push(buf.subarray(at, c));
        at = c;
      }
    } else parts = chunks(buf, opts.chunk ?? 64 * 1024);
    for (const p of parts) {
      if (m.destroyed) break;
      const shift = opts.shift ?? 0;
      const copy = Buffer.alloc(p.length + shift + 8).subarray(shift, shift + p.length);
      p.copy(copy);
      m.write(copy);
    }
    if (!m.destroyed) m.end();
  });
  if (error !== null && !(error instanceof KubeMaskError)) throw error;
  return { text: Buffer.concat(out).toString(), error: error as KubeMaskError | null };
}

/** What JSON.parse says of a response body: the object, or null when a response cannot be it. */
function parsed(body: string): object | null {
  try {
    const v = JSON.parse(body) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

/** Masks `body` fast and fully; both refuse it exactly when JSON.parse does, else give maskObject's result. */
async function agree(body: string, opts: { chunk?: number; cuts?: number[]; shift?: number; masking?: KubeMasking } = {}, note = body): Promise<boolean> {
  const m = opts.masking ?? masking;
  const expected = parsed(body);
  for (const fastPath of [true, false]) {
    const r = await mask(body, { ...opts, fastPath });
    if (expected === null) {
      assert.equal(r.error?.code, 'MASK_UNPARSEABLE', `${note} (fastPath ${fastPath})`);
    } else {
      assert.equal(r.error, null, `${note} (fastPath ${fastPath}): ${String(r.error)}`);
      assert.deepEqual(JSON.parse(r.text), maskObject(JSON.parse(body), m).obj, `${note} (fastPath ${fastPath})`);
    }
  }
  return expected !== null;
}

test('control characters: refused in a string wherever they fall (chunk sizes, alignment, ASCII or not), kept between tokens', async () => {
  const ascii = listJson('PodList', 3, pod);
  const nonAscii = JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'grüße' }, data: { a: 'x'.repeat(300), b: 'y'.repeat(300) } });
  const r = rng(5);
  for (const base of [ascii, nonAscii]) {
    // Offsets inside string values (after `":"`), spread over the document.
    const inside: number[] = [];
    for (let at = base.indexOf('":"'); at >= 0; at = base.indexOf('":"', at + 1)) if (base[at + 3] !== '"') inside.push(at + 4);
    for (let code = 0; code < 0x20; code++) {
      const at = inside[Math.floor(r() * inside.length)]!;
      const body = base.slice(0, at) + String.fromCharCode(code) + base.slice(at);
      for (const chunk of [64, 67, 1000, 65536]) {
        for (const shift of [0, 1, 2, 3]) {
          const { error, text } = await mask(body, { chunk, shift });
          assert.equal(error?.code, 'MASK_UNPARSEABLE', `code ${code} at ${at}, chunks of ${chunk}, shift ${shift}`);
          assert.ok(!text.includes(String.fromCharCode(code)) || code === 10, 'nothing of the broken unit went out');
        }
      }
    }
    // A chunk that starts inside a string, 0 to 3 bytes before the control character: the bytes
    // before the chunk's first whole word are looked at one by one.
    for (let code = 0; code < 0x20; code++) {
      const at = inside[code % inside.length]!;
      const body = base.slice(0, at) + String.fromCharCode(code) + base.slice(at);
      for (let back = 0; back < 4; back++) {
        for (const shift of [0, 1, 2, 3]) {
          const { error } = await mask(body, { cuts: [at - back], shift });
          assert.equal(error?.code, 'MASK_UNPARSEABLE', `code ${code}, chunk from ${back} before it, shift ${shift}`);
        }
      }
    }
    // Whitespace between tokens is no string content: pretty-printed JSON is masked like the compact.
    const pretty = JSON.stringify(JSON.parse(base), null, '\t').replace(/\n/g, '\r\n');
    for (const chunk of [64, 100, 65536]) for (const shift of [0, 3]) await agree(pretty, { chunk, shift }, `pretty, chunks of ${chunk}`);
  }
});

test('escapes: checked in the scan, decoded where read; a bad one is refused wherever the token is', async () => {
  const kubeKeys = {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: { name: 'p', managedFields: [{ manager: 'm', fieldsV1: { 'f:spec': { 'k:{"name":"app"}': { '.': {}, 'f:env': { 'k:{"name":"DB_URL"}': {} } } } } }] },
    spec: { containers: [{ name: 'app', env: [{ name: 'DB_URL', value: 'postgres://u:p@h/db' }, { name: 'Q', value: 'a "quoted" \\ value\twith\nescapes' }] }] },
  };
  const base = JSON.stringify(kubeKeys);
  await agree(base);
  // Escapes of every kind in keys nothing reads, in keys rules read, in values the detectors read.
  const escaped = base
    .replace('"manager"', '"man\\u0061ger"')
    .replace('"env"', '"\\u0065nv"')
    .replace('"value":"postgres', '"v\\u0061lue":"postgres')
    .replace('u:p@h', 'u:p\\u0040h')
    .replace('"name":"app"', '"name":"a\\/p\\u0070"');
  assert.notEqual(escaped, base);
  assert.equal(await agree(escaped), true);
  const out = (await mask(escaped)).text;
  assert.ok(!out.includes('u:p@h') && !out.includes('u:p\\u0040h'), 'the escaped URL credential is masked');
  // Cut at every byte: an escape split from its backslash, a \u split from its digits.
  for (let k = 1; k < escaped.length; k += 1) await agree(escaped, { cuts: [k] }, `cut at ${k}`);
  // Bad escapes, in a key nothing reads, in a value, at the end of a chunk.
  for (const bad of ['\\x', '\\u12', '\\u12G4', '\\U0041', '\\\u0001', '\\ ', '\\\u00e9']) {
    for (const body of [base.replace('"f:env"', `"f:e${bad}nv"`), base.replace('"m"', `"m${bad}"`), base.replace('"fieldsV1"', `"fieldsV1${bad}"`)]) {
      assert.notEqual(body, base);
      assert.equal(await agree(body), false, body);
      const at = body.indexOf(bad);
      for (const cut of [at, at + 1, at + 2, at + 3]) assert.equal(await agree(body, { cuts: [cut] }), false, `${body} cut at ${cut}`);
    }
  }
  // A list whose `items` key is written with an escape is a list still: streamed item by item
  // (as one unit it would be over the bound).
  const big = listJson('SecretList', 6, secretItem).replace('"items"', '"it\\u0065ms"');
  assert.ok(big.length > 3000 && big.includes('"it\\u0065ms"'));
  assert.equal((await mask(big, { maxElementBytes: 1500 })).error, null);
  assert.equal((await mask(big.replace('"it\\u0065ms"', '"itemz"'), { maxElementBytes: 1500 })).error?.code, 'MASK_ELEMENT_TOO_LARGE');
  // A list whose `items` key is written with an escape is a list still.
  const list = listJson('SecretList', 3, secretItem).replace('"items"', '"it\\u0065ms"');
  assert.equal(await agree(list, { chunk: 100 }), true);
  const items = (JSON.parse((await mask(list, { chunk: 100 })).text) as { items: { data: Record<string, string> }[] }).items;
  assert.ok(items.length === 3 && items.every((x) => Object.values(x.data).every((v) => v === 'REDACTED')));
});

test('numbers: accepted exactly as JSON.parse accepts them, however they are cut', async () => {
  const tokens = ['0', '-0', '7', '42', '-1', '1.5', '-1.5e3', '1E+5', '1e-5', '0.0', '10', '90071992547409930', '01', '-01', '00', '-', '1.', '.5', '1e', '1e+', '+1', '--1', '0x1', '1.2.3', '1ee5', '1-', '2+2', '0e', '-e1'];
  let accepted = 0;
  for (const t of tokens) {
    const body = `{"kind":"ConfigMap","apiVersion":"v1","data":{"k":"v"},"n":${t},"m":[${t},${t}],"o":{"p":${t}}}`;
    if (await agree(body, {}, t)) accepted++;
    for (let k = body.indexOf(`"n":`) + 4; k <= body.indexOf(`,"m"`) + 1; k++) await agree(body, { cuts: [k] }, `${t} cut at ${k}`);
    // the document's last token
    await agree(`{"n":${t}}`, { chunk: 1 }, `${t} last`);
  }
  assert.equal(accepted, 12);
});

test('rule keys of every length, the longest too: masked by key, the others left to the detectors', async () => {
  const lengths = [1, 2, 3, 4, 5, 8, 29, 30, 31, 32, 33, 40, 64];
  const keyOf = (n: number, c = 'k'): string => c.repeat(n);
  const rules: MaskRule[] = [...defaultMaskRules(), { kind: 'MyApp', apiGroup: 'example.com', paths: lengths.map((n) => `spec.${keyOf(n)}`), action: 'marker' }];
  const m = createKubeMasking({ detectors, rules });
  const spec: Record<string, unknown> = {};
  for (let n = 1; n <= 70; n++) {
    spec[keyOf(n)] = `secret-${n}`; // masked where a rule names it
    spec[keyOf(n, 'j')] = `other-${n}`; // same length, another key: kept
  }
  spec.jwt = A_JWT; // no rule: the detectors
  const obj = { kind: 'MyApp', apiVersion: 'example.com/v1', metadata: { name: 'x' }, spec };
  const body = JSON.stringify(obj);
  for (const chunk of [7, 64, 65536]) await agree(body, { chunk, masking: m });
  const out = JSON.parse((await mask(body, { masking: m })).text) as typeof obj;
  for (let n = 1; n <= 70; n++) {
    assert.equal(out.spec[keyOf(n)], lengths.includes(n) ? 'REDACTED' : `secret-${n}`, `key of length ${n}`);
    assert.equal(out.spec[keyOf(n, 'j')], `other-${n}`);
  }
  assert.ok(!JSON.stringify(out).includes(A_JWT));
});

test('a list of mixed kinds: each item masked by the rules of its own kind and group', async () => {
  const rules: MaskRule[] = [...defaultMaskRules(), { kind: 'MyApp', apiGroup: 'example.com', paths: ['spec.password'], action: 'marker' }];
  const m = createKubeMasking({ detectors, rules });
  const app = (group: string) => ({ kind: 'MyApp', apiVersion: `${group}/v1`, metadata: { name: group }, spec: { password: 'hunter2', data: { a: 'c2VjcmV0' } } });
  const cm = { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'c' }, data: { a: 'c2VjcmV0' } };
  const items = [secret('a', { a: 'c2VjcmV0' }), cm, app('example.com'), app('other.io'), app('example.com'), secret('b', { a: 'c2VjcmV0' }), cm, { ...secret('c', { a: 'c2VjcmV0' }), apiVersion: 'other.io/v1' }];
  const body = JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: {}, items });
  for (const chunk of [50, 65536]) await agree(body, { chunk, masking: m });
  const out = JSON.parse((await mask(body, { masking: m })).text) as { items: { data?: { a: string }; spec?: { password: string } }[] };
  assert.deepEqual(
    out.items.map((x) => x.data?.a ?? x.spec?.password),
    ['REDACTED', 'c2VjcmV0', 'REDACTED', 'hunter2', 'REDACTED', 'REDACTED', 'c2VjcmV0', 'c2VjcmV0'],
  );
});

test('replacement text goes out whole: non-ASCII, several per chunk, across chunks', async () => {
  const cm = (i: number) => ({
    kind: 'ConfigMap',
    apiVersion: 'v1',
    metadata: { name: `grüße-${i}` },
    data: { url: `postgres://ü:pässwört-${i}@höst/db`, jwt: `Jeton: ${A_JWT} — ☃`, key: AN_AWS_KEY, plain: '日本語' },
  });
  const items = Array.from({ length: 12 }, (_, i) => cm(i));
  const body = JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: {}, items });
  for (const chunk of [1, 13, 100, 1000, 65536]) {
    await agree(body, { chunk });
    const { text } = await mask(body, { chunk });
    assert.equal(Buffer.from(text).toString(), text);
    assert.ok(!text.includes('pässwört') && !text.includes(A_JWT) && !text.includes(AN_AWS_KEY));
  }
  // Secrets: a replacement per data value, many in one chunk.
  await agree(listJson('SecretList', 40, secretItem), { chunk: 65536 });
});

test('what follows a string (`:` after a key, `,"` after a value): taken early only where JSON has it', async () => {
  const doc = {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: { name: 'p', labels: { a: 'b', c: 'd' }, finalizers: ['x', 'y', 'z'] },
    spec: { containers: [{ name: 'app', args: ['--a', '--b', ''], env: [{ name: 'T', value: A_JWT }, { name: 'U', value: 'v' }] }] },
  };
  const body = JSON.stringify(doc);
  await agree(body);
  await agree(JSON.stringify(doc, null, 1));
  const r = rng(3);
  let refused = 0;
  let tried = 0;
  for (let at = 0; at < body.length; at++) {
    const c = body[at]!;
    if (c !== ':' && c !== ',' && c !== '"') continue;
    for (const by of [':', ',', ';', ' ', ']', '}', '"', '[', '{', '']) {
      if (by === c || r() < 0.5) continue;
      const mutated = body.slice(0, at) + by + body.slice(at + 1);
      tried++;
      if (!(await agree(mutated, { cuts: [Math.max(1, at - Math.floor(r() * 3))] }, `${c} → ${JSON.stringify(by)} at ${at}`))) refused++;
    }
  }
  assert.ok(tried > 300 && refused > tried / 2, `${refused} of ${tried} mutations refused`);
});
