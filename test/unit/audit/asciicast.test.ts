/**
 * The asciicast v2 writer (src/audit/asciicast.ts): every cast is parsed back line by line and
 * checked against the v2 rules (https://docs.asciinema.org/manual/asciicast/v2/): the first line
 * a header object with `version: 2` and integer `width`/`height`, every other line an event
 * array `[time, code, data]` (number, one of o/i/r/m, string) with non-decreasing times.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { castText, isTerminalSession, sessionCast, sessionExit, type CastEvent, type CastHeader } from '../../../src/audit/asciicast.ts';
import type { AuditRecord, RecordedChunk, RecordedStream } from '../../../src/audit/types.ts';

const TIME = new Date('2026-11-27T10:02:03.456Z');

function record(over: Partial<AuditRecord> = {}, query = 'command=sh&command=-c&command=echo+a%3B+exit+3&container=app&stdin=true&stdout=true&tty=true'): AuditRecord {
  return {
    id: '6f1c2a8e-0b7d-4c3e-9a51-2d4e6f8a0b1c',
    seq: 7,
    time: TIME,
    code: 'kubernetes.request',
    principal: { issuer: 'https://idp', subject: 'u-1', username: 'alice', groups: ['sre'] },
    connection: 'prod',
    method: 'GET',
    path: '/api/v1/namespaces/shop/pods/web-1/exec',
    query,
    sourceIp: '10.0.0.1',
    attributes: {
      connection: 'prod',
      verb: 'create',
      apiGroup: '',
      apiVersion: 'v1',
      resource: 'pods',
      subresource: 'exec',
      namespace: 'shop',
      name: 'web-1',
      isResourceRequest: true,
      path: '/api/v1/namespaces/shop/pods/web-1/exec',
    },
    ...over,
  } as AuditRecord;
}

const chunk = (stream: RecordedStream, tUs: number, data: string | Buffer): RecordedChunk => ({ stream, tUs, data: Buffer.from(data) });

/** Parses a cast file and checks the v2 rules; returns header and events. */
function parseCast(text: string): { header: CastHeader; events: CastEvent[] } {
  assert.ok(text.endsWith('\n'), 'the file ends with a newline');
  const lines = text.slice(0, -1).split('\n');
  const header = JSON.parse(lines[0]!) as CastHeader;
  assert.equal(typeof header, 'object');
  assert.ok(!Array.isArray(header), 'the first line is the header object');
  assert.equal(header.version, 2);
  assert.ok(Number.isInteger(header.width) && header.width > 0, 'width');
  assert.ok(Number.isInteger(header.height) && header.height > 0, 'height');
  if (header.timestamp !== undefined) assert.ok(Number.isInteger(header.timestamp), 'timestamp is an integer');
  const events: CastEvent[] = [];
  let prev = 0;
  for (const line of lines.slice(1)) {
    const e = JSON.parse(line) as unknown;
    assert.ok(Array.isArray(e) && e.length === 3, `event ${line} is an array of 3`);
    const [t, code, data] = e as [unknown, unknown, unknown];
    assert.equal(typeof t, 'number', line);
    assert.ok((t as number) >= prev, `times are non-decreasing: ${line}`);
    prev = t as number;
    assert.ok(['o', 'i', 'r', 'm'].includes(code as string), `event code ${String(code)}`);
    assert.equal(typeof data, 'string', line);
    events.push(e as CastEvent);
  }
  return { header, events };
}

const STATUS_3 = JSON.stringify({ metadata: {}, status: 'Failure', message: 'command terminated with non-zero exit code: error executing command [sh -c echo a; exit 3], exit code 3', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } });

describe('asciicast v2 of a terminal session (asciicast.ts)', () => {
  const hello = Buffer.from('héllo wörld\r\n');
  const cut = hello.indexOf(0xc3) + 1; // inside the two bytes of é
  const chunks = [
    chunk('resize', 1_000, '{"Width":120,"Height":40}'),
    chunk('stdout', 2_500, hello.subarray(0, cut)),
    chunk('stdout', 1_234_567, hello.subarray(cut)),
    chunk('stdin', 1_500_000, 'ls\r'),
    chunk('stderr', 1_600_001, 'ls: oops\n'),
    chunk('resize', 2_000_000, '{"Width":100,"Height":30}\n'),
    chunk('status', 2_500_000, STATUS_3),
  ];

  test('header: size of the first resize, begin time, command, title; events o/r/m in order', () => {
    const cast = sessionCast(record(), chunks);
    const { header, events } = parseCast(castText(cast));
    assert.deepEqual(header, {
      version: 2,
      width: 120,
      height: 40,
      timestamp: Math.floor(TIME.getTime() / 1000),
      command: "sh -c 'echo a; exit 3'",
      title: 'alice@prod pod/web-1 -c app',
    });
    assert.deepEqual(events, [
      [0.0025, 'o', 'h'],
      [1.234567, 'o', 'éllo wörld\r\n'],
      [1.600001, 'o', 'ls: oops\n'],
      [2, 'r', '100x30'],
      [2.5, 'm', 'exit 3'],
    ]);
    assert.deepEqual(cast.exit, { code: 3, marker: 'exit 3' });
  });

  test('stdin appears as "i" events only when asked for', () => {
    const without = parseCast(castText(sessionCast(record(), chunks)));
    assert.ok(!without.events.some((e) => e[1] === 'i'));
    const withInput = parseCast(castText(sessionCast(record(), chunks, { input: true })));
    assert.deepEqual(
      withInput.events.filter((e) => e[1] === 'i'),
      [[1.5, 'i', 'ls\r']],
    );
  });

  test('a character split over three chunks comes out whole; bytes that are not UTF-8 become U+FFFD', () => {
    const euro = Buffer.from('€'); // 3 bytes
    const cast = sessionCast(record(), [chunk('stdout', 10, euro.subarray(0, 1)), chunk('stdout', 20, euro.subarray(1, 2)), chunk('stdout', 30, euro.subarray(2)), chunk('stdout', 40, Buffer.from([0x41, 0xff, 0x42])), chunk('stdout', 50, Buffer.from([0xe2, 0x82]))]);
    const { events } = parseCast(castText(cast));
    assert.deepEqual(
      events.map((e) => e[2]),
      ['€', 'A\uFFFDB', '\uFFFD'],
    );
  });

  test('stdout and stderr keep their own decoders (a split character on one is not mixed with the other)', () => {
    const e = Buffer.from('é');
    const cast = sessionCast(record(), [chunk('stdout', 1, e.subarray(0, 1)), chunk('stderr', 2, 'err\n'), chunk('stdout', 3, e.subarray(1))]);
    assert.deepEqual(
      cast.events.map((x) => x[2]),
      ['err\n', 'é'],
    );
  });

  test('no resize: 80×24; no command (attach): no command member; no container: no -c', () => {
    const attach = record({ path: '/api/v1/namespaces/shop/pods/web-1/attach' }, 'stdin=true&stdout=true');
    const { header } = parseCast(castText(sessionCast(attach, [chunk('stdout', 5, 'x')])));
    assert.equal(header.width, 80);
    assert.equal(header.height, 24);
    assert.equal(header.command, undefined);
    assert.equal(header.title, 'alice@prod pod/web-1');
  });

  test('idle_time_limit and env go into the header when given', () => {
    const { header } = parseCast(castText(sessionCast(record(), chunks, { idleTimeLimit: 2, env: { TERM: 'xterm-256color' } })));
    assert.equal(header.idle_time_limit, 2);
    assert.deepEqual(header.env, { TERM: 'xterm-256color' });
  });

  test('the exit marker is the last event, even when output was recorded after the Status', () => {
    const cast = sessionCast(record(), [chunk('stdout', 10, 'a'), chunk('status', 20, '{"status":"Success"}'), chunk('stdout', 30, 'late')]);
    const { events } = parseCast(castText(cast));
    assert.deepEqual(events[events.length - 1], [0.00003, 'm', 'exit 0']);
  });

  test('a resize chunk with two JSON objects, and malformed sizes, are read sensibly', () => {
    const cast = sessionCast(record(), [chunk('resize', 1, '{"Width":90,"Height":20}\n{"Width":91,"Height":21}\n'), chunk('resize', 2, '{"Width":-1,"Height":5}'), chunk('resize', 3, 'garbage')]);
    const { header, events } = parseCast(castText(cast));
    assert.equal(header.width, 90);
    assert.equal(header.height, 20);
    assert.deepEqual(events, [[0.000001, 'r', '91x21']]);
  });

  test('a record with a principal-less begin and the time of a chunk at 0', () => {
    const cast = sessionCast(record({ principal: null }), [chunk('stdout', 0, 'x')]);
    assert.equal(cast.header.title, 'unknown@prod pod/web-1 -c app');
    assert.deepEqual(cast.events, [[0, 'o', 'x']]);
  });

  test('no Status recorded: no marker and no exit', () => {
    const cast = sessionCast(record(), [chunk('stdout', 10, 'x')]);
    assert.equal(cast.exit, undefined);
    assert.ok(!cast.events.some((e) => e[1] === 'm'));
  });
});

describe('exit of a session from its Status (sessionExit)', () => {
  test('Success is exit 0; NonZeroExitCode carries the code', () => {
    assert.deepEqual(sessionExit(Buffer.from('{"metadata":{},"status":"Success"}')), { code: 0, marker: 'exit 0' });
    assert.deepEqual(sessionExit(Buffer.from(STATUS_3)), { code: 3, marker: 'exit 3' });
  });

  test('another Failure keeps its message; the v1 protocol\'s plain text is kept as text', () => {
    assert.deepEqual(sessionExit(Buffer.from('{"status":"Failure","reason":"InternalError","message":"container not found (\\"app\\")"}')), { marker: 'error: container not found ("app")' });
    assert.deepEqual(sessionExit(Buffer.from('command terminated with exit code 2\n')), { marker: 'error: command terminated with exit code 2' });
    assert.equal(sessionExit(Buffer.from('  ')), undefined);
  });

  test('a malformed exit code cause is not taken as one', () => {
    const s = JSON.stringify({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: 'x' }] } });
    assert.deepEqual(sessionExit(Buffer.from(s)), { marker: 'error: NonZeroExitCode' });
  });
});

test('isTerminalSession: exec and attach of pods only', () => {
  assert.equal(isTerminalSession(record()), true);
  const with_ = (subresource: string, resource = 'pods'): AuditRecord => record({ attributes: { ...record().attributes!, resource, subresource } });
  assert.equal(isTerminalSession(with_('attach')), true);
  assert.equal(isTerminalSession(with_('portforward')), false);
  assert.equal(isTerminalSession(with_('log')), false);
  assert.equal(isTerminalSession(with_('exec', 'services')), false);
  assert.equal(isTerminalSession(record({ attributes: undefined })), false);
});
