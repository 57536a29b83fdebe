/**
 * Run a real kubectl to completion and collect what it printed. A time limit (default 30 s)
 * kills it (SIGTERM, then SIGKILL) and says so at the end of stderr, so a hanging command fails
 * the test with a reason instead of hanging the suite.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { kubectlPath } from './kubectl-path.ts';

export interface KubectlOptions {
  /** kubectl minor version, e.g. "1.27". */
  version: string;
  kubeconfig: string;
  args: string[];
  /** Extra environment (merged over the process environment). */
  env?: Record<string, string>;
  /** Discovery/HTTP cache folder; default `kube-cache` beside the kubeconfig, so worlds never share a cache. */
  cacheDir?: string;
}

export interface RunKubectlOptions extends KubectlOptions {
  /** Written to kubectl's standard input, which is then closed. */
  stdin?: string;
  /** Default 30000. */
  timeoutMs?: number;
}

export interface KubectlResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The binary, argv and environment for a kubectl invocation. */
export function kubectlCommand(opts: KubectlOptions): { file: string; argv: string[]; env: NodeJS.ProcessEnv } {
  const cacheDir = opts.cacheDir ?? join(dirname(opts.kubeconfig), 'kube-cache');
  return {
    file: kubectlPath(opts.version),
    argv: ['--kubeconfig', opts.kubeconfig, '--cache-dir', cacheDir, ...opts.args],
    env: { ...process.env, KUBECONFIG: opts.kubeconfig, ...opts.env },
  };
}

/** Stop a child: SIGTERM, then SIGKILL after `graceMs`. Resolves once it has exited. */
export function stopChild(child: ChildProcess, graceMs = 2_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Run kubectl and wait for it to exit (or be killed at the time limit). */
export function runKubectl(opts: RunKubectlOptions): Promise<KubectlResult> {
  const { file, argv, env } = kubectlCommand(opts);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => undefined); // kubectl may exit before reading its input
    child.stdin.end(opts.stdin ?? '');
    const timer = setTimeout(() => {
      timedOut = true;
      void stopChild(child);
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) stderr += `\n[harness] kubectl ${opts.args.join(' ')} killed after the ${timeoutMs} ms time limit\n`;
      resolve({ code, signal, stdout, stderr });
    });
  });
}
