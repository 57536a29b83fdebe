import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportLine, exportStubLine, parseExportLine, recanonicalize } from '../../../../src/audit/trail/export-line.ts';
import { verifyTrail, type TrailItem, type TrailRow } from '../../../../src/audit/trail/verify-trail.ts';
import { buildTrail, newSigner, trustedOf, type Row } from './trail-fixture.ts';

const signer = newSigner();
const trustedKeys = trustedOf(signer);
const trail = buildTrail({ events: 30, checkpointEvery: 10, signer, finalCheckpoint: true });
const asRow = (r: Row): TrailRow => ({ chain: r.chain, seq: r.seq, type: r.type, event: r.event, hash: r.hash });

test('exportLine: envelope first, the event verbatim and last, one line', () => {
  const r = trail[0]!;
  const line = exportLine(r);
  assert.equal(line, `{"@timestamp":"2025-11-27T08:00:00.000Z","chain":"gw-test","hash":"${r.hash}","seq":1,"type":"request.begin","event":${r.event}}`);
  assert.ok(line.endsWith(`,"event":${r.event}}`));
  assert.equal(JSON.parse(line).seq, 1);
  assert.throws(() => exportLine({ ...r, event: '{"a":\n1}' }), TypeError);
  assert.throws(() => exportLine({ ...r, time: NaN }), RangeError);
});

test('export round trip: every line parses back to the stored row, and the file verifies', async () => {
  const lines = trail.map(exportLine);
  const rows = lines.map((l, i) => parseExportLine(l, i + 1));
  assert.deepEqual(rows, trail.map(asRow));
  const r = await verifyTrail(rows, { trustedKeys });
  assert.equal(r.ok, true, r.failure?.message);
  assert.equal(r.events, trail.length);
  assert.equal(r.checkpoints, 3);
  // a byte flipped in the file is found at its seq
  const tampered = [...lines];
  tampered[6] = tampered[6]!.replace('/pods/web-', '/pods/wex-');
  const bad = await verifyTrail(tampered.map((l, i) => parseExportLine(l, i + 1)), { trustedKeys });
  assert.deepEqual(bad.failure && [bad.failure.seq, bad.failure.kind], [7, 'edited']);
});

test('chain and type ids that need escaping take the general path and round-trip too', () => {
  const odd: Row = { ...trail[2]!, chain: 'gw-"\u00e9\\', type: 'request.begin' };
  const line = exportLine(odd);
  assert.ok(line.includes('"chain":"gw-\\"é\\\\"'));
  assert.deepEqual(parseExportLine(line, 3), asRow(odd));
});

test('CRLF line ends, trailing spaces and a BOM on the first line are tolerated', () => {
  const line = exportLine(trail[0]!);
  assert.deepEqual(parseExportLine('\ufeff' + line + '\r', 1), asRow(trail[0]!));
  assert.deepEqual(parseExportLine(line + '  ', 2), asRow(trail[0]!));
});

/** What a log pipeline does: parse, then write again with its own key order and spacing. */
function reserialize(line: string): string {
  const spaced = (v: unknown): string => {
    if (Array.isArray(v)) return '[' + v.map(spaced).join(', ') + ']';
    if (v && typeof v === 'object') {
      const keys = Object.keys(v).reverse();
      return '{' + keys.map((k) => `${JSON.stringify(k)}: ${spaced((v as Record<string, unknown>)[k])}`).join(', ') + '}';
    }
    return JSON.stringify(v);
  };
  return spaced(JSON.parse(line));
}

test('an export re-serialized by a SIEM: the raw event slice is kept, and verifies once re-canonicalized', async () => {
  const lines = trail.map((r) => reserialize(exportLine(r)));
  assert.ok(lines[0]!.startsWith('{"event": {'), 'event first, spaces after colons and commas');
  const rows = lines.map((l, i) => parseExportLine(l, i + 1));
  const first = rows[0] as TrailRow;
  assert.equal(first.seq, 1);
  assert.equal(first.hash, trail[0]!.hash);
  assert.ok(first.event.startsWith('{"v": 1, "type": "request.begin"'), 'the raw member text, verbatim');
  assert.equal(recanonicalize(first.event), trail[0]!.event);
  // verbatim, the first event no longer hashes
  const verbatim = await verifyTrail(rows, { trustedKeys });
  assert.deepEqual(verbatim.failure && [verbatim.failure.seq, verbatim.failure.kind], [1, 'edited']);
  // the caller asks for re-canonicalization of events whose verbatim text does not hash
  const r = await verifyTrail(rows, { trustedKeys, recanonicalize: true });
  assert.equal(r.ok, true, r.failure?.message);
  assert.equal(r.checkpoints, 3);
  assert.ok(r.notes.some((n) => n.startsWith(`${trail.length} event(s) verified only in their re-canonicalized`)));
  // a changed value is still an edit
  const changed = [...lines];
  changed[4] = changed[4]!.replace('"bob"', '"eve"').replace('"alice"', '"eve"');
  const bad = await verifyTrail(changed.map((l, i) => parseExportLine(l, i + 1)), { trustedKeys, recanonicalize: true });
  assert.deepEqual(bad.failure && [bad.failure.seq, bad.failure.kind], [5, 'edited']);
  // and so is a re-serialized range that starts at its checkpoint
  const range = await verifyTrail(rows.slice(10), { trustedKeys, recanonicalize: true });
  assert.equal(range.ok, true, range.failure?.message);
});

test('a line with our layout but a member appended after the event still yields the exact event text', () => {
  const r = trail[3]!;
  const line = exportLine(r).slice(0, -1) + ',"host":"siem-1"}';
  assert.deepEqual(parseExportLine(line, 4), asRow(r));
  const nested = `{"@timestamp":"x","meta":{"a":1,"event":2},"chain":"gw-test","hash":"${r.hash}","seq":4,"type":"${r.type}","event":${r.event}}`;
  assert.deepEqual(parseExportLine(nested, 4), asRow(r), 'an "event" member of a nested object is not the event');
  const twice = exportLine(r).slice(0, -1) + ',"event":{"type":"x","v":1}}';
  assert.equal((parseExportLine(twice, 4) as TrailRow).event, '{"type":"x","v":1}', 'the last of duplicate members, as JSON.parse reads it');
  assert.throws(() => parseExportLine(exportLine(r) + 'x', 4), /^SyntaxError: line 4: not JSON/, 'nothing may follow the envelope');
});

test('stub lines round-trip and verify in place of the events they hide', async () => {
  const line = exportStubLine({ chain: 'gw-test', fromSeq: 41, toSeq: 57, hash: 'ab'.repeat(32) });
  assert.equal(line, `{"chain":"gw-test","seq":"41-57","hash":"${'ab'.repeat(32)}","stub":true}`);
  assert.deepEqual(parseExportLine(line, 3), { stub: { chain: 'gw-test', fromSeq: 41, toSeq: 57, hash: 'ab'.repeat(32) } });
  assert.deepEqual(parseExportLine(`{"chain":"c","seq":"7","hash":"${'AB'.repeat(32)}","stub":true}`, 1), { stub: { chain: 'c', fromSeq: 7, toSeq: 7, hash: 'ab'.repeat(32) } });
  // bob's scoped export: alice's events (every third) become stubs
  const lines: string[] = [];
  let hidden: Row[] = [];
  const flush = (): void => {
    if (hidden.length) lines.push(exportStubLine({ chain: 'gw-test', fromSeq: hidden[0]!.seq, toSeq: hidden.at(-1)!.seq, hash: hidden.at(-1)!.hash }));
    hidden = [];
  };
  for (const r of trail) {
    if (r.event.includes('"username":"alice"')) hidden.push(r);
    else {
      flush();
      lines.push(exportLine(r));
    }
  }
  flush();
  const items: TrailItem[] = lines.map((l, i) => parseExportLine(l, i + 1));
  assert.ok(items.some((x) => 'stub' in x));
  const r = await verifyTrail(items, { trustedKeys });
  assert.equal(r.ok, true, r.failure?.message);
  assert.equal(r.checkpoints, 3);
  assert.equal(r.toSeq, trail.length);
});

test('bad lines are refused with their line number', () => {
  const r = trail[0]!;
  const cases: [string, RegExp][] = [
    ['not json', /^line 9: not JSON/],
    ['[1,2]', /^line 9: not a JSON object/],
    [`{"chain":"c","seq":1,"hash":"${r.hash}","type":"x"}`, /^line 9: no event member/],
    [`{"chain":"c","seq":1,"hash":"${r.hash}","type":"x","event":"{}"}`, /^line 9: event is not a JSON object/],
    [exportLine({ ...r, seq: 0 }), /^line 9: seq is not a positive integer/],
    [exportLine({ ...r, hash: 'abc' }), /^line 9: hash is not 64 hex digits/],
    [exportLine({ ...r, chain: '' }), /^line 9: chain is not a non-empty string/],
    [exportLine(r).replace(`"type":"request.begin",`, ''), /^line 9: type is not a string/],
    [`{"chain":"c","seq":"9-3","hash":"${r.hash}","stub":true}`, /^line 9: stub seq/],
    [`{"chain":"c","seq":"1-3","hash":"x","stub":true}`, /^line 9: stub hash/],
  ];
  for (const [line, message] of cases) assert.throws(() => parseExportLine(line, 9), (e: unknown) => e instanceof SyntaxError && message.test(e.message), line.slice(0, 40));
});
