/**
 * The line masker of text streams (src/masking/text): chunk boundaries at every byte, UTF-8,
 * CRLF, the line bound, idle release with released text as context, multi-line findings, counts,
 * and the Transform for pod logs. Real detectors (createDetectors()) throughout.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createDetectors } from '../../../src/masking/detectors/index.ts';
import { createTextMasker, LineMasker } from '../../../src/masking/text/index.ts';

// Fake credentials, assembled at run time so that no secret scanner takes this file for a leak.
const j = (...parts: string[]): string => parts.join('');
const b64u = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const JWT = `${b64u({ alg: 'RS256', kid: 'fake' })}.${b64u({ sub: 'system:serviceaccount:dev:default', note: 'fake' })}.${Buffer.from('fake-signature-not-valid').toString('base64url')}`;
const GHP = j('gh', 'p_', 'FakeTokenForTestsOnly'.padEnd(36, '0'));
const AWS_ID = j('AKIA', 'IOSFODNN7EXAMPLE');
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const PEM_BODY = ['MIIEowIBAAKCAQEAfakefakefakefakefakefakefakefakefakefakefakefakefake', 'c2x1aWNlLWZha2Uta2V5LWZvci10ZXN0cy1vbmx5LW5vdC1hLXJlYWwta2V5LWF0LWFsbA==', 'ZmFrZQ=='];
const PEM = [j('-----BEGIN ', 'RSA PRIVATE KEY-----'), ...PEM_BODY, j('-----END ', 'RSA PRIVATE KEY-----')].join('\n');

const detectors = createDetectors();

/** Runs `chunks` through a new masker (push each, then flush) and returns the output. */
function run(chunks: Buffer[], opts: { maxLineBytes?: number; d?: ReturnType<typeof createDetectors> } = {}): { out: Buffer; masker: LineMasker } {
  const masker = new LineMasker({ detectors: opts.d ?? detectors, maxLineBytes: opts.maxLineBytes });
  const parts: Buffer[] = [];
  for (const c of chunks) parts.push(masker.push(c));
  parts.push(masker.flush());
  return { out: Buffer.concat(parts), masker };
}

function splitAt(b: Buffer, i: number): Buffer[] {
  return [b.subarray(0, i), b.subarray(i)];
}

/** Every run of `n` characters of `secret` that is absent from `out`. */
function assertNoPiece(out: string, secret: string, n: number, what: string): void {
  for (let i = 0; i + n <= secret.length; i++) {
    const piece = secret.slice(i, i + n);
    assert.ok(!out.includes(piece), `${what}: "${piece}" of the secret released: ${out.slice(0, 400)}`);
  }
}

describe('LineMasker: chunk boundaries', () => {
  const cases: [string, string][] = [
    ['jwt', `token=${JWT} trailing words`],
    ['github-token', `export GITHUB_TOKEN=${GHP}`],
    ['aws-access-key-id', `{"AccessKeyId":"${AWS_ID}","x":1}`],
    ['aws-secret-access-key', `aws_secret_access_key = ${AWS_SECRET}`],
    ['bearer-token', `Authorization: Bearer ${JWT.slice(0, 60)}Zz9`],
  ];
  for (const [name, text] of cases) {
    test(`${name}: split at every byte offset across two chunks, masked as if whole`, () => {
      const line = Buffer.from(`before line\n${text}\nafter line\n`);
      const expected = detectors.mask(line.toString()).text;
      assert.notEqual(expected, line.toString(), 'the case has a finding');
      assert.match(expected, new RegExp(`\\[MASKED:${name}\\]`));
      for (let i = 0; i <= line.length; i++) {
        const masker = new LineMasker({ detectors });
        const [a, b] = splitAt(line, i);
        const first = masker.push(a!);
        // Nothing of the secret's line is released before the line is complete.
        const firstLineEnd = line.indexOf('\n') + 1;
        const secondLineEnd = firstLineEnd + Buffer.byteLength(text) + 1;
        if (i < firstLineEnd) assert.equal(first.length, 0, `split at ${i}`);
        else if (i < secondLineEnd) assert.equal(first.toString(), 'before line\n', `split at ${i}`);
        const out = Buffer.concat([first, masker.push(b!), masker.flush()]).toString();
        assert.equal(out, expected, `split at ${i}`);
      }
    });
  }

  test('a secret in three chunks with every pair of cut points is masked', () => {
    const line = Buffer.from(`x ${GHP} y\n`);
    const expected = detectors.mask(line.toString()).text;
    for (let i = 1; i < line.length; i += 3) {
      for (let k = i + 1; k < line.length; k += 5) {
        const { out } = run([line.subarray(0, i), line.subarray(i, k), line.subarray(k)]);
        assert.equal(out.toString(), expected, `cuts ${i}, ${k}`);
      }
    }
  });

  test('complete lines are released at once; only the incomplete one is held', () => {
    const m = new LineMasker({ detectors });
    assert.equal(m.push(Buffer.from('one\ntwo\nthr')).toString(), 'one\ntwo\n');
    assert.equal(m.pending(), 3);
    assert.equal(m.push(Buffer.from(`ee ${GHP.slice(0, 10)}`)).toString(), '');
    assert.equal(m.push(Buffer.from(`${GHP.slice(10)}\nfour`)).toString(), 'three [MASKED:github-token]\n');
    assert.equal(m.flush().toString(), 'four');
    assert.deepEqual(m.counts(), { detectors: { 'github-token': 1 }, oversizeLines: 0 });
  });
});

describe('LineMasker: UTF-8 and line endings', () => {
  test('a multi-byte character split at every byte offset comes out intact', () => {
    const text = Buffer.from(`héllo wörld — 日本語 🙂 ${JWT} ünï 🙂\nzweite Zeile ✓\n`);
    const expected = Buffer.from(detectors.mask(text.toString('utf8')).text);
    for (let i = 0; i <= text.length; i++) {
      const { out } = run(splitAt(text, i));
      assert.deepEqual(out, expected, `split at ${i}`);
    }
  });

  test('every byte in its own chunk', () => {
    const text = Buffer.from(`ä ${AWS_ID} 🙂\r\nplain ✓\r\n`);
    const { out } = run([...text].map((b) => Buffer.from([b])));
    assert.equal(out.toString(), 'ä [MASKED:aws-access-key-id] 🙂\r\nplain ✓\r\n');
  });

  test('CRLF stays intact, also split between CR and LF', () => {
    const text = Buffer.from(`token: ${GHP}\r\nnext\r\n`);
    for (let i = 0; i <= text.length; i++) {
      const { out } = run(splitAt(text, i));
      assert.equal(out.toString(), 'token: [MASKED:github-token]\r\nnext\r\n', `split at ${i}`);
    }
  });

  test('a line that is not UTF-8 keeps its bytes outside the finding', () => {
    const bin = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x20]), Buffer.from(AWS_ID), Buffer.from([0x20, 0xc3, 0x28, 0x0a])]);
    const { out } = run([bin.subarray(0, 9), bin.subarray(9)]);
    assert.deepEqual(out, Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x20]), Buffer.from('[MASKED:aws-access-key-id]'), Buffer.from([0x20, 0xc3, 0x28, 0x0a])]));
  });

  test('an unchanged stream comes out byte for byte, whatever the chunking', () => {
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const parts: Buffer[] = [];
    for (let i = 0; i < 400; i++) {
      const k = rnd(6);
      if (k === 0) parts.push(Buffer.from(`line ${i} with ünïcödé 🙂 and JSON {"a":"eyJ","b":"ghp_x"}\n`));
      else if (k === 1) parts.push(Buffer.from([rnd(256), rnd(256), 0x0d, 0x0a]));
      else if (k === 2) parts.push(Buffer.from(`-----BEGIN CERTIFICATE-----\nMIIB${i}\n-----END CERTIFICATE-----\r\n`));
      else if (k === 3) parts.push(Buffer.from('x'.repeat(rnd(3000))));
      else if (k === 4) parts.push(Buffer.from('\n'));
      else parts.push(Buffer.from(`postgres://user@host:5432/db?sslmode=disable 4111 1111 1111 ${i}\n`));
    }
    const all = Buffer.concat(parts);
    assert.equal(detectors.mask(all.toString('latin1')).text, all.toString('latin1'), 'the sample has no findings');
    for (const max of [64, 997, 20_000]) {
      const chunks: Buffer[] = [];
      for (let off = 0; off < all.length; ) {
        const n = 1 + rnd(max);
        chunks.push(all.subarray(off, off + n));
        off += n;
      }
      const { out, masker } = run(chunks, { maxLineBytes: 1024 });
      assert.ok(out.equals(all), `chunks up to ${max} bytes: output differs`);
      assert.deepEqual(masker.counts().detectors, {});
    }
  });
});

describe('LineMasker: findings over several lines', () => {
  test('a PEM private key is one marker, in one chunk or line by line', () => {
    const text = `$ cat key.pem\n${PEM}\nafter\n`;
    const want = '$ cat key.pem\n[MASKED:private-key-block]\nafter\n';
    assert.equal(run([Buffer.from(text)]).out.toString(), want);
    const lines = text.split(/(?<=\n)/).map((l) => Buffer.from(l));
    const { out, masker } = run(lines);
    assert.equal(out.toString(), want);
    assert.deepEqual(masker.counts().detectors, { 'private-key-block': 1 });
    for (let i = 0; i < text.length; i += 7) assert.equal(run(splitAt(Buffer.from(text), i)).out.toString(), want, `split at ${i}`);
  });

  test('with CRLF (a TTY) the key does not leak either', () => {
    const text = `${PEM}\n`.replace(/\n/g, '\r\n');
    const out = run(text.split(/(?<=\n)/).map((l) => Buffer.from(l))).out.toString();
    for (const body of PEM_BODY) assert.ok(!out.includes(body), out);
    assert.match(out, /^\[MASKED:private-key-block\]/);
  });
});

describe('LineMasker: idle release (interactive streams)', () => {
  test('typed echo and a prompt without newline are released; text is unchanged', () => {
    const m = new LineMasker({ detectors });
    let out = '';
    out += m.push(Buffer.from('/ # ')).toString();
    assert.equal(out, '');
    out += m.releasePartial().toString();
    assert.equal(out, '/ # ');
    for (const c of 'ls -la') {
      assert.equal(m.push(Buffer.from(c)).toString(), '');
      assert.equal(m.releasePartial().toString(), c);
    }
    out = m.push(Buffer.from('\r\nbin  etc\r\n/ # ')).toString();
    assert.equal(out, '\r\nbin  etc\r\n');
    assert.equal(m.releasePartial().toString(), '/ # ');
  });

  test('the released prefix is context: a value after its released name is masked', () => {
    const m = new LineMasker({ detectors });
    m.push(Buffer.from('aws_secret_access_key = '));
    assert.equal(m.releasePartial().toString(), 'aws_secret_access_key = ');
    const rest = m.push(Buffer.from(`${AWS_SECRET}\n`)).toString();
    assert.equal(rest, '[MASKED:aws-secret-access-key]\n');
    assert.deepEqual(m.counts().detectors, { 'aws-secret-access-key': 1 });
  });

  test('the same after a partial value: only the new part is replaced', () => {
    const m = new LineMasker({ detectors });
    m.push(Buffer.from('aws_secret_access_key = '));
    m.releasePartial();
    m.push(Buffer.from(AWS_SECRET.slice(0, 10)));
    // Ten characters are not a key yet: released as they are (the documented trade-off).
    assert.equal(m.releasePartial().toString(), AWS_SECRET.slice(0, 10));
    const rest = m.push(Buffer.from(`${AWS_SECRET.slice(10)} # done\n`)).toString();
    assert.equal(rest, '[MASKED:aws-secret-access-key] # done\n');
    assert.ok(!rest.includes(AWS_SECRET.slice(10, 20)));
  });

  test('a token that started in released text is masked from where the release stopped', () => {
    const m = new LineMasker({ detectors });
    m.push(Buffer.from(`echo ${GHP.slice(0, 8)}`));
    assert.equal(m.releasePartial().toString(), `echo ${GHP.slice(0, 8)}`);
    const rest = m.push(Buffer.from(`${GHP.slice(8)} ok\n`)).toString();
    assert.equal(rest, '[MASKED:github-token] ok\n');
  });

  test('a finding already masked at release is not marked twice when it goes on', () => {
    const m = new LineMasker({ detectors });
    m.push(Buffer.from(`jwt ${JWT.slice(0, JWT.lastIndexOf('.') + 4)}`));
    assert.equal(m.releasePartial().toString(), 'jwt [MASKED:jwt]');
    const rest = m.push(Buffer.from(`${JWT.slice(JWT.lastIndexOf('.') + 4)} end\n`)).toString();
    assert.equal(rest, ' end\n');
    assert.deepEqual(m.counts().detectors, { jwt: 1 });
  });

  test('a trailing CR and an incomplete UTF-8 character stay held', () => {
    const m = new LineMasker({ detectors });
    const euro = Buffer.from('€');
    m.push(Buffer.concat([Buffer.from('a'), euro.subarray(0, 2)]));
    assert.equal(m.releasePartial().toString(), 'a');
    assert.equal(m.pending(), 2);
    m.push(Buffer.concat([euro.subarray(2), Buffer.from('b\r')]));
    assert.equal(m.releasePartial().toString(), '€b');
    assert.equal(m.push(Buffer.from('\n')).toString(), '\r\n');
  });
});

describe('LineMasker: the line bound', () => {
  test('a long line is cut; a secret at every position around the cut is masked; memory stays bounded', () => {
    const max = 4096;
    for (let pos = 1800; pos < 2400; pos += 37) {
      const line = Buffer.from(`${'a '.repeat(pos / 2)}${JWT} ${'b'.repeat(5000)} ${GHP}\n`);
      const m = new LineMasker({ detectors, maxLineBytes: max });
      const parts: Buffer[] = [];
      for (let off = 0; off < line.length; off += 500) {
        parts.push(m.push(line.subarray(off, off + 500)));
        assert.ok(m.pending() <= max, `held ${m.pending()} > ${max}`);
      }
      parts.push(m.flush());
      const out = Buffer.concat(parts).toString();
      assertNoPiece(out, JWT, 12, `jwt at ${pos}`);
      assertNoPiece(out, GHP, 12, `ghp at ${pos}`);
      assert.equal(m.counts().oversizeLines, 1);
    }
  });

  test('a secret longer than the lookahead across a cut is masked conservatively', () => {
    const long = `${b64u({ alg: 'RS256' })}.${b64u({ pad: 'p'.repeat(3000) })}.${'s'.repeat(40)}`;
    const line = Buffer.from(`prefix ${'w '.repeat(900)}${long} suffix words\n`);
    for (let step = 97; step < 1200; step += 211) {
      const parts: Buffer[] = [];
      const m = new LineMasker({ detectors, maxLineBytes: 2048 });
      for (let off = 0; off < line.length; off += step) parts.push(m.push(line.subarray(off, off + step)));
      parts.push(m.flush());
      const out = Buffer.concat(parts).toString();
      assertNoPiece(out, long, 24, `chunks of ${step}`);
      assert.match(out, /^prefix w w /);
      assert.match(out, / suffix words\n$/);
    }
  });

  test('with the defaults a 3 MiB line keeps every finding whole and holds at most 1 MiB', () => {
    const filler = 'lorem ipsum dolor sit amet '.repeat(40);
    const secrets = [JWT, GHP, AWS_ID];
    let text = '';
    while (text.length < 3 * 1024 * 1024) text += filler + secrets[text.length % 3] + ' ';
    const line = Buffer.from(`${text}\nnext line\n`);
    const m = new LineMasker({ detectors });
    const parts: Buffer[] = [];
    for (let off = 0; off < line.length; off += 65_536) {
      parts.push(m.push(line.subarray(off, off + 65_536)));
      assert.ok(m.pending() <= 1024 * 1024);
    }
    parts.push(m.flush());
    const out = Buffer.concat(parts).toString();
    assert.equal(out, detectors.mask(line.toString()).text);
    assert.equal(m.counts().oversizeLines, 1);
  });

  test('an operator rule without an upper bound: a run split by a cut is masked whole', () => {
    const d = createDetectors({ custom: [{ name: 'ticket', pattern: 'TICKET-[A-Z0-9]+' }] });
    assert.equal(d.maxMatchLength, Infinity);
    const value = `TICKET-${'A1'.repeat(3000)}`;
    const line = Buffer.from(`id ${value} done\n`);
    const parts: Buffer[] = [];
    const m = new LineMasker({ detectors: d, maxLineBytes: 1024 });
    for (let off = 0; off < line.length; off += 300) parts.push(m.push(line.subarray(off, off + 300)));
    parts.push(m.flush());
    const out = Buffer.concat(parts).toString();
    assertNoPiece(out, value, 16, 'custom rule');
    assert.match(out, /^id \[MASKED:/);
    assert.match(out, / done\n$/);
  });

  test('lines over the bound are counted, complete or not', () => {
    const m = new LineMasker({ detectors, maxLineBytes: 1024 });
    m.push(Buffer.from(`${'x'.repeat(3000)}\nshort\n${'y'.repeat(1500)}\n`));
    m.push(Buffer.from('z'.repeat(2000)));
    m.push(Buffer.from('z'.repeat(2000)));
    m.flush();
    assert.equal(m.counts().oversizeLines, 3);
  });
});

describe('createTextMasker (pods/log)', () => {
  test('each complete line goes out with its chunk, never waiting for the next', async () => {
    const t = createTextMasker({ detectors });
    const seen: string[] = [];
    t.on('data', (c: Buffer) => seen.push(c.toString()));
    t.write(Buffer.from(`2024-01-01T00:00:00Z start\n2024-01-01T00:00:01Z token ${JWT.slice(0, 20)}`));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, ['2024-01-01T00:00:00Z start\n']);
    t.write(Buffer.from(`${JWT.slice(20)}\n`));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, ['2024-01-01T00:00:00Z start\n', '2024-01-01T00:00:01Z token [MASKED:jwt]\n']);
    t.end(Buffer.from('tail without newline'));
    await once(t, 'end');
    assert.equal(seen.join(''), '2024-01-01T00:00:00Z start\n2024-01-01T00:00:01Z token [MASKED:jwt]\ntail without newline');
    assert.deepEqual(t.counts(), { detectors: { jwt: 1 }, oversizeLines: 0 });
  });

  test('a partial log line is held however long the quiet (logs never release early), then masked whole', async () => {
    const t = createTextMasker({ detectors });
    const seen: string[] = [];
    t.on('data', (c: Buffer) => seen.push(c.toString()));
    t.write(Buffer.from(`token ${JWT.slice(0, 20)}`));
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(seen, []);
    t.end(Buffer.from(`${JWT.slice(20)}\n`));
    await once(t, 'end');
    assert.equal(seen.join(''), 'token [MASKED:jwt]\n');
  });
});

test('a long run of lines with a few secrets, in chunks of any size: the same output as masking line by line', () => {
  let seed = 11;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const secrets = [JWT, GHP, AWS_ID, `postgres://app:pw${'x'.repeat(5)}@db/app`, PEM];
  const lines: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const base = `2024-05-01T00:00:${String(i % 60).padStart(2, '0')}Z GET /api/items/${i} 200 ${rnd(900)}ms`;
    lines.push(rnd(40) === 0 ? `${base} token=${secrets[rnd(secrets.length)]}` : base);
  }
  const text = lines.join('\n') + '\n';
  const expected = run([Buffer.from(text)], {}).out.toString();
  // line by line, one push per line, is the reference
  const reference = run(lines.map((l) => Buffer.from(l + '\n'))).out.toString();
  assert.equal(expected, reference);
  for (const size of [1, 7, 100, 4096, 65536]) {
    const chunks: Buffer[] = [];
    const b = Buffer.from(text);
    for (let i = 0; i < b.length; i += size) chunks.push(b.subarray(i, i + size));
    assert.equal(run(chunks).out.toString(), reference, `chunks of ${size}`);
  }
  for (const s of [JWT, GHP, AWS_ID]) assert.ok(!reference.includes(s));
});
