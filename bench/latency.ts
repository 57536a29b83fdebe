/** Latency at concurrency 1: sequential GETs on one keep-alive connection, timed with hrtime (used by run.ts and profile.ts). */
import http from 'node:http';
import https from 'node:https';
import type { Target } from './world.ts';

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface LatencyResult {
  target: string;
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  /** Every sample (ms), sorted. */
  samples: number[];
}

/** Sequential GETs on one keep-alive connection, timed with hrtime: sub-millisecond resolution. */
export async function sequentialLatency(t: Pick<Target, 'name' | 'base' | 'headers' | 'ca'>, path: string, n: { warmup: number; requests: number }): Promise<LatencyResult> {
  const url = new URL(t.base + path);
  const isHttps = url.protocol === 'https:';
  const agent = isHttps ? new https.Agent({ keepAlive: true, maxSockets: 1, ...(t.ca ? { ca: t.ca } : {}) }) : new http.Agent({ keepAlive: true, maxSockets: 1 });
  const headers = { ...t.headers, accept: 'application/json' };
  const one = (): Promise<number> =>
    new Promise((res, rej) => {
      const start = process.hrtime.bigint();
      const r = (isHttps ? https : http).request(url, { agent, headers }, (resp) => {
        resp.on('data', () => undefined);
        resp.on('end', () => {
          const ms = Number(process.hrtime.bigint() - start) / 1e6;
          if (resp.statusCode === 200) res(ms);
          else rej(new Error(`status ${resp.statusCode}`));
        });
      });
      r.setTimeout(10_000, () => r.destroy(new Error('timeout')));
      r.on('error', rej);
      r.end();
    });
  const deadline = Date.now() + 120_000;
  let errors = 0;
  const samples: number[] = [];
  try {
    for (let i = 0; i < n.warmup + n.requests && Date.now() < deadline; i++) {
      try {
        const ms = await one();
        if (i >= n.warmup) samples.push(ms);
      } catch {
        errors++;
        if (errors > 100) break;
      }
    }
  } finally {
    agent.destroy();
  }
  samples.sort((a, b) => a - b);
  return { target: t.name, n: samples.length, p50: percentile(samples, 50), p90: percentile(samples, 90), p99: percentile(samples, 99), max: samples.at(-1) ?? NaN, errors, samples };
}

