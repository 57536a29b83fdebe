/**
 * `tar` as far as `kubectl cp` uses it (staging/src/k8s.io/kubectl/pkg/cmd/cp/cp.go): from the pod
 * `tar cf - <src>` writing an archive to stdout (GNU tar strips the leading "/" and says so on
 * stderr); to the pod `tar -xmf - [-C <dir>]` (1.27) / `tar --no-same-permissions
 * --no-same-owner -xmf - [-C <dir>]` reading one from stdin. Uses tar-stream.
 */
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { PodFs } from './pod-fs.ts';
import { normalize } from './pod-fs.ts';

export interface TarIO {
  stdin: Readable | null;
  stdout(data: Buffer | string): void;
  stderr(data: Buffer | string): void;
}

interface TarArgs {
  mode: 'c' | 'x' | 't' | '';
  file: string;
  dir: string | undefined;
  paths: string[];
}

function parseArgs(argv: string[]): TarArgs {
  const out: TarArgs = { mode: '', file: '-', dir: undefined, paths: [] };
  const rest = [...argv];
  let first = true;
  while (rest.length) {
    const a = rest.shift() ?? '';
    if (a.startsWith('--')) {
      if (a === '--directory' || a === '--file') {
        const v = rest.shift() ?? '';
        if (a === '--file') out.file = v;
        else out.dir = v;
      } else if (a.startsWith('--directory=')) out.dir = a.slice(12);
      else if (a.startsWith('--file=')) out.file = a.slice(7);
      else if (a === '--extract') out.mode = 'x';
      else if (a === '--create') out.mode = 'c';
      // other long options (--no-same-owner, --no-same-permissions, ...) change nothing here
    } else if (a.startsWith('-') && a.length > 1 || (first && /^[cxtvfmpoC]+$/.test(a))) {
      for (const ch of a.replace(/^-/, '')) {
        if (ch === 'c' || ch === 'x' || ch === 't') out.mode = ch;
        else if (ch === 'f') out.file = rest.shift() ?? '-';
        else if (ch === 'C') out.dir = rest.shift();
      }
    } else {
      out.paths.push(a);
    }
    first = false;
  }
  return out;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return Buffer.concat(chunks);
}

export async function runTar(argv: string[], io: TarIO, fs: PodFs, cwd: string): Promise<number> {
  const args = parseArgs(argv);
  const base = args.dir ? normalize(args.dir, cwd) : cwd;
  if (args.file !== '-') {
    io.stderr(`tar: ${args.file}: only "-" (stdin/stdout) is supported in this container\n`);
    return 2;
  }
  if (args.mode === 'c') return create(args.paths, base, io, fs);
  if (args.mode === 'x' || args.mode === 't') return extract(args.mode, base, io, fs);
  io.stderr("tar: You must specify one of the '-Acdtrux', '--delete' or '--test-label' options\nTry 'tar --help' or 'tar --usage' for more information.\n");
  return 2;
}

async function create(paths: string[], base: string, io: TarIO, fs: PodFs): Promise<number> {
  if (paths.length === 0) {
    io.stderr('tar: Cowardly refusing to create an empty archive\nTry \'tar --help\' or \'tar --usage\' for more information.\n');
    return 2;
  }
  const pack = tar.pack();
  let failed = false;
  let warned = false;
  for (const p of paths) {
    const abs = normalize(p, base);
    if (!fs.get(abs)) {
      io.stderr(`tar: ${p}: Cannot stat: No such file or directory\n`);
      failed = true;
      continue;
    }
    if (p.startsWith('/') && !warned) {
      io.stderr("tar: Removing leading `/' from member names\n");
      warned = true;
    }
    // Member names are the operand as given (relative to -C), without leading slashes.
    const operand = p.replace(/^\/+/, '').replace(/\/+$/, '');
    for (const path of fs.walk(abs)) {
      const e = fs.get(path);
      if (!e) continue;
      const rel = path === abs ? operand : `${operand ? `${operand}/` : ''}${path.slice(abs === '/' ? 1 : abs.length + 1)}`;
      if (e.type === 'dir') pack.entry({ name: `${rel}/`, type: 'directory', mode: e.mode, mtime: e.mtime, uname: 'root', gname: 'root' });
      else pack.entry({ name: rel, type: 'file', mode: e.mode, mtime: e.mtime, size: e.data.length, uname: 'root', gname: 'root' }, e.data);
    }
  }
  pack.finalize();
  for await (const chunk of pack) io.stdout(chunk as Buffer);
  if (failed) {
    io.stderr('tar: Exiting with failure status due to previous errors\n');
    return 2;
  }
  return 0;
}

async function extract(mode: 'x' | 't', base: string, io: TarIO, fs: PodFs): Promise<number> {
  if (!io.stdin) {
    io.stderr('tar: Refusing to read archive contents from terminal (missing -f option?)\ntar: Error is not recoverable: exiting now\n');
    return 2;
  }
  const ex = tar.extract();
  io.stdin.pipe(ex);
  try {
    for await (const entry of ex) {
      const h = entry.header;
      const data = await readAll(entry as unknown as Readable);
      const target = normalize(h.name, base);
      if (mode === 't') {
        io.stdout(`${h.name}\n`);
        continue;
      }
      if (h.type === 'directory') fs.mkdirp(target, h.mtime ?? new Date());
      else if (h.type === 'file' || h.type === 'contiguous-file' || !h.type) {
        // -m: do not restore modification times, so the file gets "now".
        fs.writeFile(target, data, h.mode ?? 0o644, new Date());
      }
    }
  } catch (err) {
    io.stderr(`tar: ${err instanceof Error ? err.message : String(err)}\ntar: Error is not recoverable: exiting now\n`);
    return 2;
  }
  return 0;
}
