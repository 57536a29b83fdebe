/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the COMMIT that
 * crosses `wal_autocheckpoint` pages: on the gateway's one writer connection, on the event loop,
 * copying megabytes into the database file and syncing it — a stall of several milliseconds
 * every few hundred requests under load, which every request then waiting on the loop pays
 * (the trail's commit-wait p99; bench/recording.ts). So the writer connection turns automatic
 * checkpoints off, and this worker thread, with its own connection to the same file, runs
 * `PRAGMA wal_checkpoint(PASSIVE)` every `intervalMs`: it copies what it can without blocking
 * the writer or readers; the next write after a complete checkpoint restarts the WAL from its
 * beginning, so the WAL stays bounded as long as the checkpointer keeps up.
 *
 * Durability is the writer's business (its commits are in the WAL, fdatasync'ed); with
 * `synchronous=NORMAL` SQLite syncs the WAL before a checkpoint and the database file after a
 * complete one. A failing checkpoint is reported and retried at the next interval: the WAL grows
 * meanwhile, nothing is lost. `close()` runs a last checkpoint and ends the thread.
 *
 * The worker is inline CommonJS (`eval`), so it runs the same from the TypeScript sources and
 * from dist/.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface WalCheckpointer {
  close(): Promise<void>;
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { timeout: workerData.busyTimeoutMs });
db.pragma('synchronous = NORMAL');
const run = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (e) {
    parentPort.postMessage({ error: String(e && e.message || e) });
  }
};
const timer = setInterval(run, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'close') return;
  clearInterval(timer);
  run();
  db.close();
  parentPort.postMessage({ closed: true });
});
`;

export function startWalCheckpointer(path: string, opts: { intervalMs?: number; busyTimeoutMs?: number; onError?: (message: string) => void } = {}): WalCheckpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, { eval: true, workerData: { path, driver, intervalMs: opts.intervalMs ?? 100, busyTimeoutMs: opts.busyTimeoutMs ?? 5000 } });
  worker.unref();
  const closed = new Promise<void>((resolve) => {
    worker.on('message', (m: { error?: string; closed?: boolean }) => {
      if (m.error) opts.onError?.(m.error);
      if (m.closed) resolve();
    });
    worker.on('error', (e) => {
      opts.onError?.(e.message);
      resolve();
    });
    worker.on('exit', () => resolve());
  });
  return {
    async close() {
      worker.postMessage('close');
      await closed;
      await worker.terminate();
    },
  };
}
