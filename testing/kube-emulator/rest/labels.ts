/**
 * Label selectors, after k8s.io/apimachinery/pkg/labels/selector.go: the lexer (identifiers,
 * `=`, `==`, `!=`, `!`, `in`, `notin`, `(`, `)`, `,`, `<`, `>`), the parser (requirements
 * joined by commas; `key`, `!key`, `key op value`, `key in|notin (v1,v2)`, `key >|< int`) and
 * NewRequirement's validation of keys (qualified names) and values (label values).
 */
import { badRequest } from '../store/errors.ts';

export type Operator = 'exists' | '!' | '=' | '==' | '!=' | 'in' | 'notin' | 'gt' | 'lt';
export interface Requirement { key: string; op: Operator; values: string[] }
export type LabelSelector = Requirement[];

type Tok = { t: 'id' | 'op' | 'eof'; v: string };

const SPECIAL = new Set(['!', '=', '(', ')', ',', '<', '>']);
const isWs = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';

function lex(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i] ?? '';
    if (isWs(c)) {
      i++;
      continue;
    }
    if (SPECIAL.has(c)) {
      const two = s.slice(i, i + 2);
      if (two === '==' || two === '!=') {
        out.push({ t: 'op', v: two });
        i += 2;
      } else {
        out.push({ t: 'op', v: c });
        i++;
      }
      continue;
    }
    let j = i;
    while (j < s.length && !isWs(s[j] ?? '') && !SPECIAL.has(s[j] ?? '')) j++;
    out.push({ t: 'id', v: s.slice(i, j) });
    i = j;
  }
  out.push({ t: 'eof', v: '' });
  return out;
}

const NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function validateKey(k: string): string | undefined {
  const parts = k.split('/');
  let name = k;
  if (parts.length === 2) {
    const [prefix, n] = parts as [string, string];
    if (!prefix || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix)) return `prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`;
    name = n;
  } else if (parts.length > 2) {
    return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
  }
  if (!name) return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!NAME_RE.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
  }
  return undefined;
}

function validateValue(v: string): string | undefined {
  if (v === '') return undefined;
  if (v.length > 63) return 'must be no more than 63 characters';
  if (!NAME_RE.test(v)) {
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
  }
  return undefined;
}

/** Parse a label selector; throws 400 BadRequest with the parser's message. */
export function parseLabelSelector(s: string): LabelSelector {
  const toks = lex(s);
  let i = 0;
  const peek = () => toks[i] ?? { t: 'eof', v: '' };
  const next = () => toks[i++] ?? { t: 'eof', v: '' };
  const fail = (m: string): never => {
    throw badRequest(`unable to parse requirement: ${m}`);
  };
  const out: Requirement[] = [];
  if (peek().t === 'eof') return out;
  for (;;) {
    let neg = false;
    if (peek().t === 'op' && peek().v === '!') {
      next();
      neg = true;
    }
    const kt = next();
    if (kt.t !== 'id') throw badRequest(`found '${kt.v}', expected: ${neg ? "identifier after '!'" : 'identifier'}`);
    const key = kt.v;
    const kerr = validateKey(key);
    if (kerr) fail(`<nil>: Invalid value: "${key}": ${kerr}`);
    let req: Requirement;
    if (neg) req = { key, op: '!', values: [] };
    else {
      const ot = peek();
      if (ot.t === 'eof' || (ot.t === 'op' && ot.v === ',')) req = { key, op: 'exists', values: [] };
      else {
        next();
        let op: Operator;
        if (ot.t === 'id' && (ot.v === 'in' || ot.v === 'notin')) op = ot.v;
        else if (ot.t === 'op' && (ot.v === '=' || ot.v === '==' || ot.v === '!=')) op = ot.v;
        else if (ot.t === 'op' && ot.v === '>') op = 'gt';
        else if (ot.t === 'op' && ot.v === '<') op = 'lt';
        else throw badRequest(`found '${ot.v}', expected: ${"'=', '!=', '==', 'in', notin'"}`);
        const values: string[] = [];
        if (op === 'in' || op === 'notin') {
          const lp = next();
          if (!(lp.t === 'op' && lp.v === '(')) throw badRequest(`found '${lp.v}', expected: '('`);
          for (;;) {
            const vt = peek();
            if (vt.t === 'id') {
              values.push(vt.v);
              next();
            } else if (vt.t === 'op' && (vt.v === ',' || vt.v === ')')) values.push('');
            else throw badRequest(`found '${vt.v}', expected: ',', ')' or identifier`);
            const sep = next();
            if (sep.t === 'op' && sep.v === ')') break;
            if (!(sep.t === 'op' && sep.v === ',')) throw badRequest(`found '${sep.v}', expected: ',' or ')'`);
          }
        } else {
          const vt = peek();
          if (vt.t === 'id') {
            values.push(vt.v);
            next();
          } else if (vt.t === 'eof' || (vt.t === 'op' && vt.v === ',')) values.push('');
          else throw badRequest(`found '${vt.v}', expected: identifier`);
          if ((op === 'gt' || op === 'lt') && !/^-?\d+$/.test(values[0] ?? '')) {
            fail(`values[0]: Invalid value: "${values[0] ?? ''}": for 'Gt', 'Lt' operators, the value must be an integer`);
          }
        }
        if (op !== 'gt' && op !== 'lt') {
          values.forEach((v, idx) => {
            const e = validateValue(v);
            if (e) fail(`values[${idx}][${key}]: Invalid value: "${v}": ${e}`);
          });
        }
        req = { key, op, values };
      }
    }
    out.push(req);
    const sep = next();
    if (sep.t === 'eof') break;
    if (!(sep.t === 'op' && sep.v === ',')) throw badRequest(`found '${sep.v}', expected: ',' or 'end of string'`);
  }
  return out;
}

export function matchLabels(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const r of sel) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'exists':
        if (!has) return false;
        break;
      case '!':
        if (has) return false;
        break;
      case '=':
      case '==':
      case 'in':
        if (!has || !r.values.includes(v ?? '')) return false;
        break;
      case '!=':
      case 'notin':
        if (has && r.values.includes(v ?? '')) return false;
        break;
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(v ?? '')) return false;
        const n = Number(v);
        const want = Number(r.values[0]);
        if (r.op === 'gt' ? !(n > want) : !(n < want)) return false;
        break;
      }
    }
  }
  return true;
}
