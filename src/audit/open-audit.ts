/**
 * Opens what the gateway records into: the audit store (embedded SQLite) with its trail writer,
 * the trail's signing key, and the recorder with the recording caps — from the configuration,
 * in one place for `sluice server`, the demo world and the tests' worlds.
 *
 * Fail closed: a signing key that exists but cannot be read (or is not Ed25519) stops the start;
 * a missing key is created (0600) at first start, as `sluice audit keys generate` would. A
 * `:memory:` store (tests) signs with a key that lives as long as the process.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import type { AuditStore } from '../store/audit-store.ts';
import { openSqliteAuditStore } from '../store/sqlite/open-sqlite-audit-store.ts';
import { createAuditRecorder } from './recorder.ts';
import type { AuditRecorder } from './types.ts';
import { ephemeralSigner, loadOrCreateSigningKey, type TrailSigner } from './trail/signing-key.ts';

export interface OpenedAudit {
  store: AuditStore;
  recorder: AuditRecorder;
  signer: TrailSigner;
}

export interface OpenAuditOptions {
  log: Logger;
  /** Wrap the store the recorder writes to (tests that hold or fail writes). */
  wrapStore?: (store: AuditStore) => AuditStore;
  /** The recorder closes the store (default true). */
  closeStore?: boolean;
}

export async function openAudit(cfg: Pick<Config, 'store' | 'trail' | 'recording'>, opts: OpenAuditOptions): Promise<OpenedAudit> {
  const signer = cfg.store.sqlite.path === ':memory:' ? ephemeralSigner() : signerFromFile(cfg.trail.signingKeyFile, opts.log);
  const store = await openSqliteAuditStore({
    ...cfg.store.sqlite,
    onCheckpointError: (message) => opts.log.warn({ err: message }, 'WAL checkpoint failed; retrying (the WAL grows meanwhile)'),
    trail: {
      signer,
      checkpointEvents: cfg.trail.checkpointEvents,
      checkpointSeconds: cfg.trail.checkpointSeconds,
      retentionDays: cfg.trail.retentionDays,
      bodyRetentionDays: Math.min(cfg.recording.retentionDays, cfg.trail.retentionDays),
      // A copy of every checkpoint outside the store: whoever ships the log holds history fixed
      // up to it (`sluice audit verify --against <log lines>`, docs/trail.md).
      onCheckpoint: (text) => {
        const { checkpoint, signature } = JSON.parse(text) as { checkpoint: unknown; signature: string };
        opts.log.info({ checkpoint, signature }, 'trail checkpoint');
      },
    },
  });
  const recorder = createAuditRecorder(opts.wrapStore ? opts.wrapStore(store) : store, {
    log: opts.log,
    recording: cfg.recording,
    closeStore: opts.closeStore ?? true,
  });
  return { store, recorder, signer };
}

function signerFromFile(file: string, log: Logger): TrailSigner {
  const { signer, created, warnings } = loadOrCreateSigningKey(file);
  for (const w of warnings) log.warn({ file }, w);
  if (created) log.info({ file, keyId: signer.keyId }, 'created the trail signing key; give auditors its public key (sluice audit keys export)');
  return signer;
}
