/**
 * The JSON Lines export of the audit trail (ADR 0002, Decision 6) and its reader, so `verify`
 * can check an export with the same algorithm as the store (verify-trail.ts).
 *
 * A line is the envelope, outside the hash, then the event text exactly as stored and hashed:
 *
 *   {"@timestamp":"<ISO-8601>","chain":"…","hash":"<hex>","seq":N,"type":"…","event":{…}}
 *
 * `event` is last and written verbatim (canonical JSON has no raw line breaks), so the reader can
 * slice its raw text and hash it as is: no parse and re-serialize per line. A pipeline that
 * re-serialized the file (spaces, other key order) changes those bytes; then, and only then,
 * `recanonicalize` rebuilds the RFC 8785 form from the parsed event, which hashes again if the
 * data is unchanged (verifyTrail's `recanonicalize` option does it on a hash mismatch).
 *
 * For a scoped reader, events outside their scope become stubs that keep the chain checkable:
 *
 *   {"chain":"…","seq":"41-57","hash":"<hex of hash[57]>","stub":true}
 */
import { canonicalJson } from './canonical-json.ts';
import { topLevelMember, valueEnd } from './json-scan.ts';
import type { TrailItem, TrailRow, TrailStub } from './verify-trail.ts';

const HEX64 = /^[0-9a-f]{64}$/;
const SEQ_RANGE = /^([1-9][0-9]*)(?:-([1-9][0-9]*))?$/;
/** The envelope exportLine writes, up to the event (a chain or type with escapes takes the general path). */
const OUR_HEAD = /^\{"@timestamp":"[^"\\]*","chain":"([^"\\]+)","hash":"([0-9a-f]{64})","seq":([1-9][0-9]{0,15}),"type":"([^"\\]*)","event":/;

/** One export line (no newline) for a stored row; `time` in ms since the epoch. */
export function exportLine(row: TrailRow & { time: number }): string {
  if (/[\r\n]/.test(row.event)) throw new TypeError(`exportLine: event of seq ${row.seq} holds a line break (not canonical JSON)`);
  const at = new Date(row.time).toISOString();
  return `{"@timestamp":"${at}","chain":${JSON.stringify(row.chain)},"hash":${JSON.stringify(row.hash)},"seq":${row.seq},"type":${JSON.stringify(row.type)},"event":${row.event}}`;
}

/** The line that stands for events fromSeq..toSeq a scoped reader may not see. */
export function exportStubLine(stub: TrailStub['stub']): string {
  return `{"chain":${JSON.stringify(stub.chain)},"seq":"${stub.fromSeq}-${stub.toSeq}","hash":${JSON.stringify(stub.hash)},"stub":true}`;
}

/** The RFC 8785 form of an event text a pipeline re-serialized. Throws SyntaxError when it is not JSON. */
export function recanonicalize(eventText: string): string {
  return canonicalJson(JSON.parse(eventText));
}

function bad(lineNo: number, why: string): SyntaxError {
  return new SyntaxError(`line ${lineNo}: ${why}`);
}

function rowOf(env: Record<string, unknown>, event: string, lineNo: number): TrailRow {
  const { chain, seq, hash, type } = env;
  if (typeof chain !== 'string' || chain === '') throw bad(lineNo, 'chain is not a non-empty string');
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) throw bad(lineNo, 'seq is not a positive integer');
  if (typeof hash !== 'string' || !HEX64.test(hash.toLowerCase())) throw bad(lineNo, 'hash is not 64 hex digits');
  if (typeof type !== 'string') throw bad(lineNo, 'type is not a string');
  return { chain, seq, type, event, hash: hash.toLowerCase() };
}

function stubOf(env: Record<string, unknown>, lineNo: number): TrailStub {
  const { chain, seq, hash } = env;
  if (typeof chain !== 'string' || chain === '') throw bad(lineNo, 'stub chain is not a non-empty string');
  const m = SEQ_RANGE.exec(typeof seq === 'number' ? String(seq) : typeof seq === 'string' ? seq : '');
  const fromSeq = m ? Number(m[1]) : NaN;
  const toSeq = m ? Number(m[2] ?? m[1]) : NaN;
  if (!Number.isSafeInteger(fromSeq) || !Number.isSafeInteger(toSeq) || toSeq < fromSeq) throw bad(lineNo, 'stub seq is not "FROM-TO"');
  if (typeof hash !== 'string' || !HEX64.test(hash.toLowerCase())) throw bad(lineNo, 'stub hash is not 64 hex digits');
  return { stub: { chain, fromSeq, toSeq, hash: hash.toLowerCase() } };
}

/**
 * Parses one export line (`lineNo` for messages; a trailing CR and spaces are ignored). A row's
 * `event` is the raw text of the line's `event` member, byte for byte, wherever it stands on the
 * line. Throws SyntaxError("line N: …") for a line that is neither a row nor a stub.
 */
export function parseExportLine(line: string, lineNo: number): TrailItem {
  let text = line.trimEnd();
  if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  // Fast path: the exporter's own layout (scalars without escapes first, the event last).
  const head = OUR_HEAD.exec(text);
  if (head) {
    const start = head[0].length;
    const end = text.charCodeAt(start) === 0x7b ? valueEnd(text, start) : -1;
    if (end === text.length - 1 && text.charCodeAt(end) === 0x7d) {
      return rowOf({ chain: head[1], hash: head[2], seq: Number(head[3]), type: head[4] }, text.slice(start, end), lineNo);
    }
  }
  let env: unknown;
  try {
    env = JSON.parse(text);
  } catch (e) {
    throw bad(lineNo, `not JSON (${(e as Error).message})`);
  }
  if (typeof env !== 'object' || env === null || Array.isArray(env)) throw bad(lineNo, 'not a JSON object');
  const rec = env as Record<string, unknown>;
  if (rec.stub === true) return stubOf(rec, lineNo);
  const span = topLevelMember(text, 'event');
  if (!span) throw bad(lineNo, 'no event member');
  const event = text.slice(span.start, span.end);
  if (event.charCodeAt(0) !== 0x7b) throw bad(lineNo, 'event is not a JSON object');
  return rowOf(rec, event, lineNo);
}
