/**
 * Summarise a V8 .cpuprofile of the gateway (bench/README.md): where the time went while it
 * served requests. Only the busy window counts — from the first to the last sample whose stack
 * is inside the request pipeline — so start-up and idle time before and after the load do not
 * dilute the figures. Prints time per category (self time of the frames, first match wins), the
 * heaviest frames by self time, and, given the number of requests served, the cost per request.
 *
 *   node --import tsx bench/cpu-profile-summary.ts <file.cpuprofile> [requests]
 */
import { readFileSync } from 'node:fs';

process.stdout.on('error', () => process.exit(0)); // piped into head

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2];
if (!file) throw new Error('usage: cpu-profile-summary.ts <file.cpuprofile> [requests]');
const requests = Number(process.argv[3] ?? 0);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const stackOf = (id: number): ProfileNode[] => {
  const out: ProfileNode[] = [];
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) out.push(byId.get(cur)!);
  return out;
};
const frameName = (n: ProfileNode): string => {
  const url = n.callFrame.url.replace(/^file:\/\/.*?\/node_modules\//, '').replace(/^file:\/\/.*?\/(src|bench|testing)\//, '$1/');
  return `${n.callFrame.functionName || '(anonymous)'} ${url}${url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
};

/** Categories, checked in order against the sampled frame and then its callers. */
const CATEGORIES: [string, (n: ProfileNode) => boolean][] = [
  ['idle (waiting for I/O)', (n) => n.callFrame.functionName === '(idle)'],
  ['garbage collection', (n) => n.callFrame.functionName === '(garbage collector)'],
  ['audit: SQLite statement prepare (every query)', (n) => /better-sqlite3\/lib\/methods\/wrappers/.test(n.callFrame.url) && n.callFrame.functionName === 'prepare'],
  ['audit: SQLite commit (fsync, synchronous)', (n) => /kysely\/dist\/esm\/dialect\/sqlite\/sqlite-driver/.test(n.callFrame.url) || /better-sqlite3/.test(n.callFrame.url)],
  ['audit: Kysely query building', (n) => /kysely\//.test(n.callFrame.url)],
  ['audit: recorder, redaction, SQL store', (n) => /src\/(audit|store)\//.test(n.callFrame.url)],
  ['authn: JWT signature verification (RSA)', (n) => /jws_verify|rsaSignVerify|signVerify/.test(`${n.callFrame.url} ${n.callFrame.functionName}`)],
  ['authn: jose other', (n) => /jose\//.test(n.callFrame.url) || /src\/authn\//.test(n.callFrame.url)],
  ['policy: decide + CEL', (n) => /src\/policy\/|cel-js/.test(n.callFrame.url)],
  ['classify + pipeline', (n) => /src\/protocols\/kubernetes\/(pipeline|request-info|handler|status)/.test(n.callFrame.url)],
  ['forward: headers, streaming', (n) => /src\/protocols\/kubernetes\//.test(n.callFrame.url)],
  ['TLS / sockets / HTTP (node internals)', (n) => /^node:(_http|_tls|net|tls|https|http|internal\/streams|internal\/stream_base|stream)/.test(n.callFrame.url) || /^(writev|writeBuffer|writeUtf8String|writeLatin1String)$/.test(n.callFrame.functionName)],
  ['module loading (start-up)', (n) => /modules\/esm|modules\/cjs|tsx\//.test(n.callFrame.url) || n.callFrame.functionName === 'compileSourceTextModule'],
];

const inPipeline = (id: number): boolean => stackOf(id).some((n) => /src\/protocols\/kubernetes\//.test(n.callFrame.url));
// The load window: the longest stretch of samples in which pipeline samples are never more than
// a second apart (this leaves out the start-up sanity requests and the shutdown).
const at: number[] = [];
for (let i = 0, t = 0; i < profile.samples.length; i++) at.push((t += profile.timeDeltas[i] ?? 0));
let first = -1;
let last = -1;
let runStart = -1;
let prev = -1;
const closeRun = (): void => {
  if (runStart >= 0 && (first < 0 || at[prev]! - at[runStart]! > at[last]! - at[first]!)) [first, last] = [runStart, prev];
};
for (let i = 0; i < profile.samples.length; i++) {
  if (!inPipeline(profile.samples[i]!)) continue;
  if (prev < 0 || at[i]! - at[prev]! > 1e6) {
    closeRun();
    runStart = i;
  }
  prev = i;
}
closeRun();
if (first < 0) throw new Error('no sample inside the Kubernetes pipeline: was the gateway under load?');

const perCategory = new Map<string, number>();
const perFrame = new Map<string, number>();
let total = 0;
for (let i = first; i <= last; i++) {
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  const stack = stackOf(profile.samples[i]!);
  const self = stack[0]!;
  perFrame.set(frameName(self), (perFrame.get(frameName(self)) ?? 0) + dt);
  let cat = 'other JavaScript';
  outer: for (const n of stack) {
    for (const [name, test] of CATEGORIES) {
      if (test(n)) {
        cat = name;
        break outer;
      }
    }
  }
  perCategory.set(cat, (perCategory.get(cat) ?? 0) + dt);
}

const ms = (us: number): string => (us / 1000).toFixed(0).padStart(7);
const pct = (us: number): string => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
const perReq = (us: number): string => (requests > 0 ? `${(us / 1000 / requests).toFixed(3).padStart(7)} ms/req` : '');
console.log(`busy window: ${(total / 1e6).toFixed(1)} s${requests > 0 ? `, ${requests} requests` : ''}\n`);
console.log('category'.padEnd(45), '     ms', '   share', requests > 0 ? '  per request' : '');
for (const [k, v] of [...perCategory].sort((a, b) => b[1] - a[1])) console.log(k.padEnd(45), ms(v), pct(v), perReq(v));
console.log('\nheaviest frames (self time)');
for (const [k, v] of [...perFrame].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(ms(v), pct(v), ' ', k);
