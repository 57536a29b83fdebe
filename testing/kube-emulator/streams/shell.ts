/**
 * The tiny userland of an emulated container: what `kubectl exec` can run. Builtins (echo, env,
 * cat, ls, tar, sh -c '…', an interactive sh, …) over the container's in-memory filesystem
 * (./pod-fs.ts). A command that does not exist fails like runc does for exec
 * ("executable file not found in $PATH", exit 126) or, inside sh, "sh: x: not found" (127).
 */
import { Readable } from 'node:stream';
import type { KubeObject } from '../types.ts';
import type { PodFs } from './pod-fs.ts';
import { normalize } from './pod-fs.ts';
import { runTar } from './tar.ts';
import { INTERRUPT, LineReader } from './line-reader.ts';

export interface ProcIO {
  /** The process's stdin, or null when the client did not ask for one. */
  stdin: Readable | null;
  stdout(data: Buffer | string): void;
  stderr(data: Buffer | string): void;
  tty: boolean;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

export interface ExecEnv {
  fs: PodFs;
  pod: KubeObject;
  podName: string;
  namespace: string;
  container: string;
  env: Record<string, string>;
  cwd: string;
  /** Exit status of the last command ($?). */
  last: number;
}

type Builtin = (args: string[], io: ProcIO, env: ExecEnv) => Promise<number> | number;

class ExitSignal {
  constructor(readonly code: number) {}
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return Buffer.concat(chunks);
}

async function inputOf(args: string[], io: ProcIO, env: ExecEnv, cmd: string): Promise<{ data: Buffer; code: number }> {
  if (args.length === 0 || (args.length === 1 && args[0] === '-')) {
    return { data: io.stdin ? await readAll(io.stdin) : Buffer.alloc(0), code: 0 };
  }
  const parts: Buffer[] = [];
  let code = 0;
  for (const a of args) {
    const e = env.fs.get(normalize(a, env.cwd));
    if (!e) {
      io.stderr(`${cmd}: ${a}: No such file or directory\n`);
      code = 1;
    } else if (e.type === 'dir') {
      io.stderr(`${cmd}: read error: Is a directory\n`);
      code = 1;
    } else parts.push(e.data);
  }
  return { data: Buffer.concat(parts), code };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}

function modeString(type: 'file' | 'dir', mode: number): string {
  const bits = 'rwxrwxrwx';
  let s = type === 'dir' ? 'd' : '-';
  for (let i = 0; i < 9; i++) s += mode & (1 << (8 - i)) ? bits[i] : '-';
  return s;
}

function lsDate(d: Date): string {
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()] ?? 'Jan';
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${mon} ${String(d.getUTCDate()).padStart(2, ' ')} ${hh}:${mm}`;
}

function splitFlags(args: string[]): { flags: Set<string>; rest: string[] } {
  const flags = new Set<string>();
  const rest: string[] = [];
  for (const a of args) {
    if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) for (const ch of a.slice(1)) flags.add(ch);
    else rest.push(a);
  }
  return { flags, rest };
}

function dateString(d: Date): string {
  // busybox/coreutils `date` in UTC: "Mon Jan  1 00:00:00 UTC 2024"
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const t = d.toISOString().slice(11, 19);
  return `${days[d.getUTCDay()]} ${mon[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${t} UTC ${d.getUTCFullYear()}`;
}

const BUILTINS: Record<string, Builtin> = {
  echo(args, io) {
    let newline = true;
    let i = 0;
    while (args[i] === '-n' || args[i] === '-e' || args[i] === '-E') {
      if (args[i] === '-n') newline = false;
      i++;
    }
    io.stdout(args.slice(i).join(' ') + (newline ? '\n' : ''));
    return 0;
  },
  printf(args, io) {
    const [fmt = '', ...vals] = args;
    let vi = 0;
    const out = fmt
      .replace(/%[sd]/g, () => vals[vi++] ?? '')
      .replace(/\\n/g, '\n')
      .replace(/\\t/g, '\t');
    io.stdout(out);
    return 0;
  },
  env(_args, io, env) {
    io.stdout(Object.entries(env.env).map(([k, v]) => `${k}=${v}\n`).join(''));
    return 0;
  },
  printenv(args, io, env) {
    if (args.length === 0) return BUILTINS.env?.(args, io, env) ?? 0;
    let code = 0;
    for (const a of args) {
      const v = env.env[a];
      if (v === undefined) code = 1;
      else io.stdout(`${v}\n`);
    }
    return code;
  },
  async cat(args, io, env) {
    const files = args.filter((a) => a !== '-u');
    if (files.length === 0 && io.stdin) {
      // Stream stdin through as it arrives (interactive `cat`).
      for await (const c of io.stdin) io.stdout(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
      return 0;
    }
    const { data, code } = await inputOf(files, io, env, 'cat');
    io.stdout(data);
    return code;
  },
  ls(args, io, env) {
    const { flags, rest } = splitFlags(args);
    const targets = rest.length ? rest : ['.'];
    let code = 0;
    const long = flags.has('l');
    const all = flags.has('a');
    const line = (name: string, path: string): string => {
      const e = env.fs.get(path);
      if (!e) return `${name}\n`;
      if (!long) return `${name}\n`;
      const size = e.type === 'dir' ? 4096 : e.data.length;
      return `${modeString(e.type, e.mode)}    1 root     root     ${String(size).padStart(8, ' ')} ${lsDate(e.mtime)} ${name}\n`;
    };
    targets.forEach((t, idx) => {
      const abs = normalize(t, env.cwd);
      const e = env.fs.get(abs);
      if (!e) {
        io.stderr(`ls: ${t}: No such file or directory\n`);
        code = 1;
        return;
      }
      if (e.type === 'file') {
        io.stdout(line(t, abs));
        return;
      }
      if (targets.length > 1) io.stdout(`${idx ? '\n' : ''}${t}:\n`);
      const names = env.fs.list(abs);
      if (long) io.stdout(`total ${names.length * 4}\n`);
      if (all) io.stdout(line('.', abs) + line('..', abs));
      for (const n of names) io.stdout(line(n, abs === '/' ? `/${n}` : `${abs}/${n}`));
    });
    return code;
  },
  pwd(_a, io, env) {
    io.stdout(`${env.cwd}\n`);
    return 0;
  },
  cd(args, io, env) {
    const target = normalize(args[0] ?? env.env.HOME ?? '/', env.cwd);
    const e = env.fs.get(target);
    if (!e || e.type !== 'dir') {
      io.stderr(`sh: cd: can't cd to ${args[0] ?? ''}: No such file or directory\n`);
      return 2;
    }
    env.cwd = target;
    env.env.PWD = target;
    return 0;
  },
  whoami(_a, io) {
    io.stdout('root\n');
    return 0;
  },
  id(_a, io) {
    io.stdout('uid=0(root) gid=0(root) groups=0(root)\n');
    return 0;
  },
  hostname(_a, io, env) {
    io.stdout(`${env.env.HOSTNAME ?? env.podName}\n`);
    return 0;
  },
  uname(args, io, env) {
    io.stdout(args.includes('-a') ? `Linux ${env.env.HOSTNAME ?? env.podName} 6.1.0-emulated #1 SMP x86_64 Linux\n` : 'Linux\n');
    return 0;
  },
  true: () => 0,
  false: () => 1,
  ':': () => 0,
  stty: () => 0,
  exit(args) {
    throw new ExitSignal(args[0] !== undefined && /^\d+$/.test(args[0]) ? Number(args[0]) & 0xff : 0);
  },
  async sleep(args, io) {
    const n = Number.parseFloat(args[0] ?? '');
    if (!Number.isFinite(n)) {
      io.stderr(`sleep: invalid number '${args[0] ?? ''}'\n`);
      return 1;
    }
    await sleep(n * 1000, io.signal);
    return io.signal.aborted ? 130 : 0;
  },
  date(_a, io) {
    io.stdout(`${dateString(new Date())}\n`);
    return 0;
  },
  test(args, _io, env) {
    const a = args[args.length - 1] === ']' ? args.slice(0, -1) : args;
    if (a.length === 2 && a[0] && ['-d', '-f', '-e', '-s', '-r', '-w'].includes(a[0])) {
      const e = env.fs.get(normalize(a[1] ?? '', env.cwd));
      if (a[0] === '-d') return e?.type === 'dir' ? 0 : 1;
      if (a[0] === '-f') return e?.type === 'file' ? 0 : 1;
      if (a[0] === '-s') return e?.type === 'file' && e.data.length > 0 ? 0 : 1;
      return e ? 0 : 1;
    }
    if (a.length === 2 && a[0] === '-n') return a[1] ? 0 : 1;
    if (a.length === 2 && a[0] === '-z') return a[1] ? 1 : 0;
    if (a.length === 3 && a[1] === '=') return a[0] === a[2] ? 0 : 1;
    if (a.length === 3 && a[1] === '!=') return a[0] !== a[2] ? 0 : 1;
    if (a.length === 1) return a[0] ? 0 : 1;
    return 1;
  },
  async wc(args, io, env) {
    const { flags, rest } = splitFlags(args);
    const { data, code } = await inputOf(rest, io, env, 'wc');
    const text = data.toString('utf8');
    const lines = (text.match(/\n/g) ?? []).length;
    const words = text.split(/\s+/).filter(Boolean).length;
    if (flags.has('l')) io.stdout(`${lines}\n`);
    else if (flags.has('c')) io.stdout(`${data.length}\n`);
    else if (flags.has('w')) io.stdout(`${words}\n`);
    else io.stdout(`${String(lines).padStart(7)} ${String(words).padStart(7)} ${String(data.length).padStart(7)}\n`);
    return code;
  },
  async grep(args, io, env) {
    const { flags, rest } = splitFlags(args);
    const [pattern, ...files] = rest;
    if (pattern === undefined) {
      io.stderr('Usage: grep [OPTION]... PATTERNS [FILE]...\n');
      return 2;
    }
    const { data } = await inputOf(files, io, env, 'grep');
    let re: RegExp;
    try {
      re = new RegExp(pattern, flags.has('i') ? 'i' : '');
    } catch {
      re = new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), flags.has('i') ? 'i' : '');
    }
    const lines = data.toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const hits = lines.filter((l) => re.test(l) !== flags.has('v'));
    if (flags.has('c')) io.stdout(`${hits.length}\n`);
    else if (!flags.has('q')) io.stdout(hits.map((l) => `${l}\n`).join(''));
    return hits.length ? 0 : 1;
  },
  async head(args, io, env) {
    return headTail(args, io, env, 'head');
  },
  async tail(args, io, env) {
    return headTail(args, io, env, 'tail');
  },
  mkdir(args, io, env) {
    const { rest } = splitFlags(args);
    try {
      for (const d of rest) env.fs.mkdirp(normalize(d, env.cwd));
      return 0;
    } catch (e) {
      io.stderr(`${e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    }
  },
  rm(args, io, env) {
    const { flags, rest } = splitFlags(args);
    let code = 0;
    for (const p of rest) {
      if (!env.fs.remove(normalize(p, env.cwd)) && !flags.has('f')) {
        io.stderr(`rm: can't remove '${p}': No such file or directory\n`);
        code = 1;
      }
    }
    return code;
  },
  touch(args, _io, env) {
    for (const p of args) {
      const abs = normalize(p, env.cwd);
      const e = env.fs.get(abs);
      if (e) e.mtime = new Date();
      else env.fs.writeFile(abs, Buffer.alloc(0));
    }
    return 0;
  },
  export(args, _io, env) {
    for (const a of args) {
      const i = a.indexOf('=');
      if (i > 0) env.env[a.slice(0, i)] = a.slice(i + 1);
    }
    return 0;
  },
  ps(_a, io) {
    io.stdout('PID   USER     TIME  COMMAND\n    1 root      0:00 /app/server\n   42 root      0:00 ps\n');
    return 0;
  },
  which(args, io) {
    let code = 0;
    for (const a of args) {
      if (BUILTINS[a]) io.stdout(`/bin/${a}\n`);
      else code = 1;
    }
    return code;
  },
  tar(args, io, env) {
    return runTar(args, io, env.fs, env.cwd);
  },
  sh: shell,
  bash: shell,
  ash: shell,
};
BUILTINS['['] = BUILTINS.test as Builtin;

async function headTail(args: string[], io: ProcIO, env: ExecEnv, cmd: 'head' | 'tail'): Promise<number> {
  let n = 10;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '-n') n = Number(args[++i] ?? '10');
    else if (/^-n\d+$/.test(a)) n = Number(a.slice(2));
    else if (/^-\d+$/.test(a)) n = Number(a.slice(1));
    else if (a === '-c' || a.startsWith('-c')) {
      // byte counts (tail -c+N, used by kubectl cp --retries)
      const v = a === '-c' ? (args[++i] ?? '') : a.slice(2);
      const { data, code } = await inputOf(files, io, env, cmd);
      if (v.startsWith('+')) io.stdout(data.subarray(Math.max(0, Number(v.slice(1)) - 1)));
      else io.stdout(cmd === 'head' ? data.subarray(0, Number(v)) : data.subarray(Math.max(0, data.length - Number(v))));
      return code;
    } else files.push(a);
  }
  const { data, code } = await inputOf(files, io, env, cmd);
  const lines = data.toString('utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const sel = cmd === 'head' ? lines.slice(0, n) : n === 0 ? [] : lines.slice(-n);
  io.stdout(sel.map((l) => `${l}\n`).join(''));
  return code;
}

// ---------------------------------------------------------------------------------------------
// sh: a very small POSIX-ish shell (words, quotes, $VAR, ;, &&, ||, |, >, >>, 2>, 2>&1)

type Part = { text: string; quote: 'none' | 'single' | 'double' };
type Token = { kind: 'word'; parts: Part[] } | { kind: 'op'; op: string };

export function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  let parts: Part[] | null = null;
  const push = (text: string, quote: Part['quote']): void => {
    (parts ??= []).push({ text, quote });
  };
  const endWord = (): void => {
    if (parts) tokens.push({ kind: 'word', parts });
    parts = null;
  };
  let i = 0;
  while (i < line.length) {
    const ch = line[i] ?? '';
    if (ch === ' ' || ch === '\t') {
      endWord();
      i++;
    } else if (ch === '#' && !parts) {
      break;
    } else if (ch === "'") {
      const j = line.indexOf("'", i + 1);
      const end = j < 0 ? line.length : j;
      push(line.slice(i + 1, end), 'single');
      i = end + 1;
    } else if (ch === '"') {
      let s = '';
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1] ?? '')) {
          s += line[i + 1];
          i += 2;
        } else s += line[i++];
      }
      i++;
      push(s, 'double');
    } else if (ch === '\\') {
      push(line[i + 1] ?? '', 'single');
      i += 2;
    } else if (line.startsWith('>&2', i) || line.startsWith('1>&2', i)) {
      endWord();
      tokens.push({ kind: 'op', op: '>&2' });
      i += line.startsWith('>&2', i) ? 3 : 4;
    } else if (line.startsWith('2>&1', i)) {
      endWord();
      tokens.push({ kind: 'op', op: '2>&1' });
      i += 4;
    } else if (line.startsWith('2>', i) && !parts) {
      endWord();
      tokens.push({ kind: 'op', op: '2>' });
      i += 2;
    } else if (['&&', '||', '>>'].some((o) => line.startsWith(o, i))) {
      endWord();
      tokens.push({ kind: 'op', op: line.slice(i, i + 2) });
      i += 2;
    } else if (ch === ';' || ch === '|' || ch === '>' || ch === '<' || ch === '&' || ch === '\n') {
      endWord();
      tokens.push({ kind: 'op', op: ch === '\n' ? ';' : ch });
      i++;
    } else {
      let s = '';
      while (i < line.length && !" \t'\"\\;|&<>\n".includes(line[i] ?? ' ')) s += line[i++];
      push(s, 'none');
    }
  }
  endWord();
  return tokens;
}

function expand(parts: Part[], env: ExecEnv): string {
  return parts
    .map((p) =>
      p.quote === 'single'
        ? p.text
        : p.text.replace(/\$(\?|\$|[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\})/g, (_m, name: string) => {
            if (name === '?') return String(env.last);
            if (name === '$') return '42';
            const n = name.replace(/^\{|\}$/g, '');
            return env.env[n] ?? '';
          }),
    )
    .join('');
}

interface SimpleCommand {
  argv: string[];
  stdoutFile?: { path: string; append: boolean };
  stderrFile?: string;
  stderrToStdout?: boolean;
  stdoutToStderr?: boolean;
  stdinFile?: string;
}

function bufferingIO(io: ProcIO, stdin: Readable | null): { io: ProcIO; out: Buffer[] } {
  const out: Buffer[] = [];
  return {
    out,
    io: {
      stdin,
      stdout: (d) => out.push(typeof d === 'string' ? Buffer.from(d) : d),
      stderr: io.stderr,
      tty: false,
      signal: io.signal,
    },
  };
}

async function runSimple(cmd: SimpleCommand, io: ProcIO, env: ExecEnv): Promise<number> {
  if (cmd.argv.length === 0) return 0;
  let cio = io;
  const captured: Buffer[] = [];
  if (cmd.stdoutFile || cmd.stderrFile || cmd.stderrToStdout || cmd.stdoutToStderr || cmd.stdinFile) {
    let stdin = io.stdin;
    if (cmd.stdinFile) {
      const e = env.fs.get(normalize(cmd.stdinFile, env.cwd));
      if (!e || e.type !== 'file') {
        io.stderr(`sh: can't open '${cmd.stdinFile}': No such file or directory\n`);
        return 1;
      }
      stdin = Readable.from([e.data]);
    }
    const stdout = cmd.stdoutFile
      ? (d: Buffer | string): void => void captured.push(typeof d === 'string' ? Buffer.from(d) : d)
      : cmd.stdoutToStderr
        ? io.stderr
        : io.stdout;
    cio = {
      stdin,
      stdout,
      stderr: cmd.stderrToStdout ? stdout : cmd.stderrFile ? () => {} : io.stderr,
      tty: io.tty,
      signal: io.signal,
    };
  }
  const name = cmd.argv[0] ?? '';
  const fn = BUILTINS[name.replace(/^\/(usr\/)?(s?bin)\//, '')];
  let code: number;
  if (!fn) {
    io.stderr(`sh: ${name}: not found\n`);
    code = 127;
  } else {
    code = await fn(cmd.argv.slice(1), cio, env);
  }
  if (cmd.stdoutFile && cmd.stdoutFile.path !== '/dev/null') {
    const path = normalize(cmd.stdoutFile.path, env.cwd);
    const prev = cmd.stdoutFile.append ? (env.fs.get(path)?.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    env.fs.writeFile(path, Buffer.concat([prev, ...captured]));
  }
  return code;
}

/** Run one line of shell: lists (;, &&, ||) of pipelines of simple commands. */
export async function runLine(line: string, io: ProcIO, env: ExecEnv): Promise<number> {
  const tokens = tokenize(line);
  let i = 0;
  let code = env.last;
  let skip = false;
  while (i < tokens.length) {
    // one pipeline
    const stages: SimpleCommand[] = [{ argv: [] }];
    for (; i < tokens.length; i++) {
      const t = tokens[i];
      if (!t) break;
      const cur = stages[stages.length - 1] as SimpleCommand;
      if (t.kind === 'word') {
        cur.argv.push(expand(t.parts, env));
        continue;
      }
      if (t.op === '|') {
        stages.push({ argv: [] });
        continue;
      }
      if (t.op === '>' || t.op === '>>' || t.op === '2>' || t.op === '<') {
        const next = tokens[i + 1];
        const target = next?.kind === 'word' ? expand(next.parts, env) : '';
        i++;
        if (t.op === '2>') cur.stderrFile = target;
        else if (t.op === '<') cur.stdinFile = target;
        else cur.stdoutFile = { path: target, append: t.op === '>>' };
        continue;
      }
      if (t.op === '2>&1') {
        cur.stderrToStdout = true;
        continue;
      }
      if (t.op === '>&2') {
        cur.stdoutToStderr = true;
        continue;
      }
      break; // ; && || &
    }
    if (!skip) {
      let stdin = io.stdin;
      for (let s = 0; s < stages.length; s++) {
        const stage = stages[s] as SimpleCommand;
        if (s === stages.length - 1) {
          code = await runSimple(stage, { ...io, stdin }, env);
        } else {
          const b = bufferingIO(io, stdin);
          await runSimple(stage, b.io, env);
          stdin = Readable.from([Buffer.concat(b.out)]);
        }
      }
      env.last = code;
    }
    const sep = tokens[i];
    i++;
    if (sep?.kind === 'op') {
      if (sep.op === '&&') skip = code !== 0;
      else if (sep.op === '||') skip = code === 0;
      else skip = false;
    }
  }
  return code;
}

async function shell(args: string[], io: ProcIO, env: ExecEnv): Promise<number> {
  const sub: ExecEnv = { ...env, env: { ...env.env } };
  const ci = args.findIndex((a) => a === '-c' || /^-[a-z]*c[a-z]*$/.test(a));
  try {
    if (ci >= 0) return await runLine(args[ci + 1] ?? '', io, sub);
    if (!io.stdin) return 0;
    // Interactive (or script on stdin) shell.
    const reader = new LineReader(io.stdin, io.tty, (s) => io.stdout(s));
    const prompt = (): void => {
      if (io.tty) io.stdout(`${sub.cwd} # `);
    };
    prompt();
    for (;;) {
      const line = await reader.next(io.signal);
      if (line === null) {
        if (io.tty) io.stdout('exit\n');
        return sub.last;
      }
      if (line !== INTERRUPT && line.trim()) await runLine(line, io, sub);
      prompt();
    }
  } catch (e) {
    if (e instanceof ExitSignal) return e.code;
    throw e;
  }
}

/** Run an exec command line (argv as given to the API). Returns the exit code. */
export async function runExec(argv: string[], io: ProcIO, env: ExecEnv): Promise<number> {
  const name = (argv[0] ?? '').replace(/^\/(usr\/)?(s?bin)\//, '');
  const fn = BUILTINS[name];
  if (!fn) {
    io.stderr(
      `OCI runtime exec failed: exec failed: unable to start container process: exec: "${argv[0] ?? ''}": executable file not found in $PATH: unknown\n`,
    );
    return 126;
  }
  try {
    return await fn(argv.slice(1), io, env);
  } catch (e) {
    if (e instanceof ExitSignal) return e.code;
    io.stderr(`${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
