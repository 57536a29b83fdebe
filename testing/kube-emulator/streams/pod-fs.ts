/**
 * A per-container in-memory filesystem, so `kubectl exec … cat`, `ls` and `kubectl cp` (tar over
 * exec) see files a real container image and the kubelet would provide: the projected service
 * account volume at /var/run/secrets/kubernetes.io/serviceaccount (token, namespace, ca.crt),
 * /etc/hostname, /etc/os-release and an application config. Files written (cp, redirection)
 * persist for the life of the emulator.
 */
import type { KubeObject } from '../types.ts';
import { podSpec } from './pod-info.ts';

export interface FsEntry {
  type: 'file' | 'dir';
  data: Buffer;
  mode: number;
  mtime: Date;
}

export const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

function b64url(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64url');
}

/** An obviously fake service account token shaped like a JWT (the signature says "fake"). */
export function fakeServiceAccountToken(namespace: string, sa: string, podName: string): string {
  const header = b64url(JSON.stringify({ alg: 'RS256', kid: 'sluice-emulator-fake-key' }));
  const payload = b64url(
    JSON.stringify({
      aud: ['https://kubernetes.default.svc'],
      iss: 'https://kubernetes.default.svc',
      sub: `system:serviceaccount:${namespace}:${sa}`,
      'kubernetes.io': { namespace, pod: { name: podName }, serviceaccount: { name: sa } },
      note: 'FAKE token minted by the Sluice kube emulator',
    }),
  );
  return `${header}.${payload}.${b64url('fake-signature-not-valid')}`;
}

const FAKE_CA = [
  '-----BEGIN CERTIFICATE-----',
  'RkFLRSBDQSBDRVJUSUZJQ0FURSBGUk9NIFRIRSBTTFVJQ0UgS1VCRSBFTVVMQVRPUiAt',
  'IE5PVCBBIFJFQUwgQ0VSVElGSUNBVEUgLSBETyBOT1QgVFJVU1Q=',
  '-----END CERTIFICATE-----',
  '',
].join('\n');

export function normalize(path: string, cwd = '/'): string {
  const abs = path.startsWith('/') ? path : `${cwd.replace(/\/$/, '')}/${path}`;
  const out: string[] = [];
  for (const part of abs.split('/')) {
    if (!part || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

export class PodFs {
  private readonly entries = new Map<string, FsEntry>();

  constructor(pod: KubeObject, namespace: string, name: string, container: string) {
    const now = new Date(Date.parse(pod.metadata.creationTimestamp ?? '') || Date.UTC(2024, 0, 1));
    this.mkdirp('/', now);
    for (const d of ['/bin', '/dev', '/etc', '/home', '/proc', '/root', '/run', '/sys', '/tmp', '/usr/bin', '/var/log', '/app']) {
      this.mkdirp(d, now);
    }
    const sa = podSpec(pod).serviceAccountName ?? 'default';
    const hostname = podSpec(pod).hostname ?? name;
    this.writeFile(`${SA_DIR}/token`, fakeServiceAccountToken(namespace, sa, name), 0o644, now);
    this.writeFile(`${SA_DIR}/namespace`, namespace, 0o644, now);
    this.writeFile(`${SA_DIR}/ca.crt`, FAKE_CA, 0o644, now);
    this.writeFile('/etc/hostname', `${hostname}\n`, 0o644, now);
    this.writeFile(
      '/etc/os-release',
      'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\nHOME_URL="https://alpinelinux.org/"\n',
      0o644,
      now,
    );
    this.writeFile('/etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n', 0o644, now);
    this.writeFile(
      '/app/config.yaml',
      `# ${container} configuration (emulated)\nserver:\n  port: 8080\ndatabase:\n  url: postgres://app:fake-password@db:5432/app\nlogLevel: info\n`,
      0o644,
      now,
    );
  }

  get(path: string): FsEntry | undefined {
    return this.entries.get(normalize(path));
  }

  mkdirp(path: string, mtime = new Date()): void {
    const p = normalize(path);
    const parts = p.split('/').filter(Boolean);
    let cur = '';
    if (!this.entries.has('/')) this.entries.set('/', { type: 'dir', data: Buffer.alloc(0), mode: 0o755, mtime });
    for (const part of parts) {
      cur += `/${part}`;
      const e = this.entries.get(cur);
      if (e?.type === 'file') throw new Error(`mkdir: can't create directory '${cur}': File exists`);
      if (!e) this.entries.set(cur, { type: 'dir', data: Buffer.alloc(0), mode: 0o755, mtime });
    }
  }

  writeFile(path: string, data: Buffer | string, mode = 0o644, mtime = new Date()): void {
    const p = normalize(path);
    const parent = p.slice(0, p.lastIndexOf('/')) || '/';
    this.mkdirp(parent, mtime);
    this.entries.set(p, { type: 'file', data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data, mode, mtime });
  }

  remove(path: string): boolean {
    const p = normalize(path);
    let found = false;
    for (const k of [...this.entries.keys()]) {
      if (k === p || k.startsWith(`${p}/`)) {
        this.entries.delete(k);
        found = true;
      }
    }
    return found;
  }

  /** Direct children names of a directory, sorted. */
  list(path: string): string[] {
    const p = normalize(path);
    const prefix = p === '/' ? '/' : `${p}/`;
    const names: string[] = [];
    for (const k of this.entries.keys()) {
      if (k !== p && k.startsWith(prefix) && !k.slice(prefix.length).includes('/')) names.push(k.slice(prefix.length));
    }
    return names.sort();
  }

  /** All paths under (and including) path, parents before children. */
  walk(path: string): string[] {
    const p = normalize(path);
    const out = [...this.entries.keys()].filter((k) => k === p || k.startsWith(p === '/' ? '/' : `${p}/`));
    return out.sort();
  }
}

/** All containers' filesystems of all pods, keyed by namespace/pod/container. */
export class FsRegistry {
  private readonly map = new Map<string, PodFs>();

  for(pod: KubeObject, namespace: string, name: string, container: string): PodFs {
    const key = `${namespace}/${name}/${pod.metadata.uid ?? ''}/${container}`;
    let fs = this.map.get(key);
    if (!fs) {
      fs = new PodFs(pod, namespace, name, container);
      this.map.set(key, fs);
    }
    return fs;
  }
}
