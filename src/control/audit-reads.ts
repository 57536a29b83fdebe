/**
 * Reading the audit trail through the control API (ADR 0002, Decision 6):
 *
 *   GET /sluice/v1/audit/events?since=&until=&user=&group=&connection=&verb=&namespace=
 *       &resource=&decision=&approval=&code=&text=&limit=&before=     → {records, next?}
 *   GET /sluice/v1/audit/events/{id or unique prefix}                   → one record
 *   GET /sluice/v1/audit/export?<the same filters>&fromSeq=&toSeq=      → JSON Lines of the trail
 *   GET /sluice/v1/audit/events/{id}/terminal[?unverified=true]         → a recorded exec/attach session
 *   GET /sluice/v1/audit/events/{id}/body                               → its recorded request/response bodies
 *
 * Each read is a request decided by the gateway's policy — the same decide() as Kubernetes
 * requests, over the current (hot-reloaded) policy and the caller's active grants — as verb
 * `list` or `get` on resource `events` of API group `audit.sluice.dev`, connection `sluice`
 * (src/core/audit-read.ts). Deny (or review: audit reads are not held) → 403. An allow whose
 * deciding rules all say `auditScope: self` adds the caller's issuer and subject to the store
 * query, so a scoped reader's listing holds only their own records and a record of someone else
 * answers 404, exactly like a record that does not exist (ids do not leak).
 *
 * Every read, allowed or not, is itself recorded (`audit.read`, with the decision, the filter as
 * run and the count returned). Records are released only once that record is durable: when the
 * trail cannot take it the answer is 503 AUDIT_UNAVAILABLE and nothing is returned (fail closed).
 * Records go out as `sluice audit show --json` prints them (src/audit/record-json.ts).
 *
 * A terminal session (`sluice audit replay`) is `get` on `events/terminal` — a guarded operation
 * that only a rule naming it grants — of a record the reader may see; its chunks are checked
 * against the digests the trail commits to first (refused on a mismatch unless unverified=true).
 * Recorded bodies are `get` on `events/body`, guarded the same way.
 *
 * The export (verb `list`, like the listing) streams the trail's events as JSON Lines
 * (src/audit/trail/export-trail.ts): those of the records the filter — and the reader's scope —
 * let through, with stub lines for everything else, so a scoped reader can verify their own
 * events (`sluice audit verify --export`) without seeing anyone else's. Its `audit.read` record is
 * committed before the first line and completed with the bytes sent.
 */
import { principalOf } from '../core/principal.ts';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { auditFilterFromQuery, filterJson, type AuditQuery } from '../audit/audit-query.ts';
import { recordJson, type AuditPageJson, type AuditRecordJson } from '../audit/record-json.ts';
import type { AuditBegin, AuditError, AuditRecord, AuditRecorder, RecordedChunk, RecordedStream } from '../audit/types.ts';
import { isTerminalSession } from '../audit/asciicast.ts';
import { checkRecordedBodies, newestCommitment, type BodyCheckResult } from '../audit/trail/check-bodies.ts';
import type { BodyCommitments } from '../audit/trail/trail-events.ts';
import type { VerifiedPrincipal } from '../authn/principal-from-claims.ts';
import { auditReadAttributes } from '../core/audit-read.ts';
import type { Decision } from '../core/decision.ts';
import { SluiceError, isSluiceError } from '../core/errors.ts';
import { decide, type ActiveGrant } from '../policy/decide.ts';
import type { PolicySet } from '../policy/policy-set.ts';
import type { AuditListFilter, AuditStore, TrailRange } from '../store/audit-store.ts';
import { exportTrail } from '../audit/trail/export-trail.ts';
import { ControlProblem, STATUS_BY_CODE } from './control-error.ts';
import { sendJsonText } from './send-json.ts';

/** What the audit routes need from the gateway. */
export interface AuditReadDeps {
  /** Where records are read (the gateway's audit store). */
  store: Pick<AuditStore, 'get' | 'list' | 'trail' | 'chunks' | 'trailOf'>;
  /** Where `audit.read` records are written (the gateway's recorder). */
  recorder: AuditRecorder;
  /** The policy in force now (read at each request: policies reload). */
  policies: () => PolicySet;
  /** The active grants now (approved access requests), as for Kubernetes requests. */
  grants?: () => readonly ActiveGrant[];
}

export interface AuditReads {
  list(req: IncomingMessage, res: ServerResponse, principal: VerifiedPrincipal, path: string, query: URLSearchParams): Promise<void>;
  show(req: IncomingMessage, res: ServerResponse, principal: VerifiedPrincipal, path: string, rawId: string): Promise<void>;
  export(req: IncomingMessage, res: ServerResponse, principal: VerifiedPrincipal, path: string, query: URLSearchParams): Promise<void>;
  terminal(req: IncomingMessage, res: ServerResponse, principal: VerifiedPrincipal, path: string, rawId: string, query: URLSearchParams): Promise<void>;
  body(req: IncomingMessage, res: ServerResponse, principal: VerifiedPrincipal, path: string, rawId: string): Promise<void>;
}

/**
 * The recorded request and response bodies of a record, as `GET /sluice/v1/audit/events/{id}/body`
 * answers them: the chunks (base64), what the trail commits to for each stream (`withheld`,
 * `truncated`, sizes), and whether the chunks match it. A mismatch is reported, not refused:
 * the auditor sees the warning with the bytes.
 */
export interface BodyJson {
  record: AuditRecordJson;
  chunks: { stream: RecordedStream; tUs: number; data: string }[];
  bodies?: BodyCommitments;
  verified: boolean;
  problem?: string;
}

/** A recorded terminal session as `GET /sluice/v1/audit/events/{id}/terminal` answers it. */
export interface TerminalJson {
  record: AuditRecordJson;
  /** Recorded chunks in order; `data` base64. */
  chunks: { stream: RecordedStream; tUs: number; data: string }[];
  /** The chunks match the digests the trail commits to. */
  verified: boolean;
  problem?: string;
}

/** A record's recorded chunks, checked against the newest commitment its trail events hold (check-bodies.ts). */
async function checkedChunks(store: Pick<AuditStore, 'chunks' | 'trailOf'>, record: AuditRecord) {
  const chunks = await store.chunks(record.id);
  const committed = newestCommitment(await store.trailOf(record.id));
  return { chunks, committed, check: checkRecordedBodies(record.id, committed, chunks) };
}

const chunkJson = (c: RecordedChunk): { stream: RecordedStream; tUs: number; data: string } => ({ stream: c.stream, tUs: c.tUs, data: c.data.toString('base64') });
const verdict = (check: BodyCheckResult): { verified: boolean; problem?: string } => (check.ok ? { verified: true } : { verified: false, problem: check.message });

/** A record's recorded bodies as BodyJson, checked against the trail (the API's body read, and `audit show --body --db`). */
export async function recordedBodies(store: Pick<AuditStore, 'chunks' | 'trailOf'>, record: AuditRecord): Promise<BodyJson> {
  const { chunks, committed, check } = await checkedChunks(store, record);
  return {
    record: recordJson(record),
    chunks: chunks.filter((c) => c.stream === 'request' || c.stream === 'response').map(chunkJson),
    ...(committed ? { bodies: committed.bodies } : {}),
    ...verdict(check),
  };
}

/** Records `show` looks at when resolving a prefix: enough to name the ambiguity. */
const PREFIX_CANDIDATES = 5;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The query parameters as an object; a parameter given twice is refused (which one would count?). */
function queryObject(query: URLSearchParams): AuditQuery {
  const out: Record<string, string> = {};
  for (const [k, v] of query) {
    if (Object.hasOwn(out, k)) throw new SluiceError('AUDIT_QUERY_INVALID', `invalid audit query: parameter ${JSON.stringify(k.slice(0, 40))} is given twice`);
    out[k] = v;
  }
  return out;
}

export function createAuditReads(deps: AuditReadDeps & { log: Logger; now: () => Date }): AuditReads {
  const { log, now } = deps;

  /** One read in progress: its decision, and how it is recorded when it ends. */
  function begin(req: IncomingMessage, principal: VerifiedPrincipal, verb: 'get' | 'list', path: string, name?: string, subresource?: string) {
    const time = now();
    const started = performance.now();
    const attributes = auditReadAttributes(verb, path, { ...(name !== undefined ? { name } : {}), ...(subresource !== undefined ? { subresource } : {}) });
    const grants = deps.grants?.() ?? [];
    const policies = deps.policies();
    const decision = decide(principal, attributes, policies, grants.length ? { grants } : {});
    const target = req.url ?? '';
    const q = target.indexOf('?');
    const entry: AuditBegin = {
      id: randomUUID(),
      time,
      code: 'audit.read',
      principal: principalOf(principal),
      connection: attributes.connection,
      method: req.method ?? 'GET',
      path,
      query: q === -1 ? '' : target.slice(q + 1),
      sourceIp: req.socket.remoteAddress ?? '',
      attributes,
      decision: { effect: decision.effect, rules: decision.rules.map((r) => r.id), message: decision.message, policyDigest: policies.digest },
    };
    const ua = req.headers['user-agent'];
    if (ua) entry.userAgent = ua.slice(0, 256);

    /** Write the record with its outcome; resolves once durable. */
    const record = (status: number, bytesOut: number, detail: Record<string, unknown>, error?: AuditError): Promise<void> =>
      deps.recorder
        .begin({ ...entry, detail })
        .complete({ status, bytesIn: 0, bytesOut, durationMs: performance.now() - started, ...(error ? { error } : {}) });

    /** Record a refusal (best effort: the refusal releases nothing) and throw the problem. */
    const refuse = async (problem: ControlProblem | SluiceError, detail: Record<string, unknown>): Promise<never> => {
      const status = problem instanceof ControlProblem ? problem.status : (STATUS_BY_CODE[problem.code] ?? 500);
      await record(status, 0, detail, { code: problem.code, message: problem.message }).catch((e: unknown) =>
        log.error({ err: (e as Error).message, reader: principal.username }, 'could not record a refused audit read'),
      );
      throw problem;
    };

    /** Record a successful read, then send it; 503 (nothing sent) when the record cannot be written. */
    const answer = async (res: ServerResponse, body: unknown, detail: Record<string, unknown>): Promise<void> => {
      const text = JSON.stringify(body);
      try {
        await record(200, Buffer.byteLength(text), detail);
      } catch (e) {
        log.error({ err: (e as Error).message, reader: principal.username }, 'could not record an audit read; its answer is withheld');
        throw new ControlProblem(503, 'AUDIT_UNAVAILABLE', 'the audit trail could not record this read, so its answer was withheld');
      }
      sendJsonText(res, 200, text);
    };

    /**
     * A streamed answer: the read's record is committed first (503 and nothing sent when it cannot
     * be), the lines go out with back-pressure, and the record is completed with the bytes sent.
     * A failure after the first line cuts the stream: the client never takes it for complete.
     */
    const stream = async (res: ServerResponse, detail: Record<string, unknown>, produce: (write: (line: string) => void | Promise<void>) => Promise<void>): Promise<void> => {
      const handle = deps.recorder.begin({ ...entry, detail });
      try {
        await handle.commit();
      } catch (e) {
        log.error({ err: (e as Error).message, reader: principal.username }, 'could not record an audit export; it is withheld');
        throw new ControlProblem(503, 'AUDIT_UNAVAILABLE', 'the audit trail could not record this read, so its answer was withheld');
      }
      res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
      let bytesOut = 0;
      let error: AuditError | undefined;
      try {
        await produce((line) => {
          bytesOut += Buffer.byteLength(line);
          if (res.destroyed) throw new Error('the client went away');
          if (!res.write(line)) return new Promise<void>((resolve) => res.once('drain', resolve));
        });
      } catch (e) {
        error = { code: isSluiceError(e) ? e.code : 'STREAM_ABORTED', message: (e as Error).message };
        log.warn({ err: error.message, reader: principal.username }, 'audit export cut');
      }
      const done = handle.complete({ status: 200, bytesIn: 0, bytesOut, durationMs: performance.now() - started, ...(error ? { error } : {}) });
      try {
        await done;
      } catch {
        res.destroy();
        return;
      }
      if (error) res.destroy();
      else res.end();
    };

    return { decision, refuse, answer, stream };
  }

  /** 403 for anything but allow: audit reads are never held for approval. */
  const authorize = async (read: ReturnType<typeof begin>, detail: Record<string, unknown>): Promise<void> => {
    const d: Decision = read.decision;
    if (d.effect === 'allow') return;
    if (d.effect === 'review') {
      await read.refuse(new ControlProblem(403, 'APPROVAL_REQUIRED', `audit reads are not held for approval: ${d.message}`), detail);
    }
    await read.refuse(new ControlProblem(403, 'POLICY_DENIED', `you may not read the audit trail: ${d.message}`), detail);
  };

  /** The store's failure, recorded, as the problem to answer. */
  const storeFailed = (read: ReturnType<typeof begin>, e: unknown, detail: Record<string, unknown>): Promise<never> =>
    read.refuse(isSluiceError(e) ? new ControlProblem(STATUS_BY_CODE[e.code] ?? 503, e.code, e.message) : new ControlProblem(503, 'STORE_UNAVAILABLE', 'the audit store could not be read'), detail);

  const scopeOf = (d: Decision, p: VerifiedPrincipal): Pick<AuditListFilter, 'principal'> =>
    d.auditScope === 'self' ? { principal: { issuer: p.issuer, subject: p.subject } } : {};

  /**
   * The record a `get` names (id or unique prefix), as far as the reader's scope lets them see
   * it; refuses (recorded) with 404 otherwise — a record outside the scope is answered exactly
   * like a missing one.
   */
  const visibleRecord = async (read: ReturnType<typeof begin>, principal: VerifiedPrincipal, rawId: string): Promise<{ record: AuditRecord; detail: Record<string, unknown> }> => {
    const scope = read.decision.auditScope ? { scope: read.decision.auditScope } : {};
    await authorize(read, { id: rawId.slice(0, 64) });
    const id = rawId.trim().toLowerCase();
    if (!/^[0-9a-f-]{1,36}$/.test(id)) {
      return read.refuse(
        new SluiceError('AUDIT_QUERY_INVALID', `${JSON.stringify(rawId.slice(0, 40))} is not an audit record id: give the id or a unique prefix of it (hex digits and dashes)`),
        { id: rawId.slice(0, 64), ...scope },
      );
    }
    const within = scopeOf(read.decision, principal);
    const detail = { id, ...scope };
    let found: AuditRecord | undefined;
    let candidates: AuditRecord[] = [];
    try {
      if (UUID.test(id)) {
        const r = await deps.store.get(id);
        found = r && (!within.principal || (r.principal?.issuer === within.principal.issuer && r.principal.subject === within.principal.subject)) ? r : undefined;
      } else {
        candidates = (await deps.store.list({ idPrefix: id, limit: PREFIX_CANDIDATES, ...within })).records;
        found = candidates.length === 1 ? candidates[0] : undefined;
      }
    } catch (e) {
      return storeFailed(read, e, detail);
    }
    if (!found) {
      const message =
        candidates.length > 1
          ? `audit record id prefix ${id} is ambiguous: it matches ${candidates.map((r) => r.id).join(', ')}${candidates.length === PREFIX_CANDIDATES ? ', …' : ''}`
          : `no audit record ${id}${id.length < 36 ? '…' : ''} (or you may not see it)`;
      return read.refuse(new ControlProblem(404, 'AUDIT_RECORD_NOT_FOUND', message), { ...detail, count: 0 });
    }
    return { record: found, detail };
  };

  return {
    async list(req, res, principal, path, query) {
      const read = begin(req, principal, 'list', path);
      const scope = read.decision.auditScope ? { scope: read.decision.auditScope } : {};
      await authorize(read, {});
      let filter: AuditListFilter;
      try {
        filter = { ...auditFilterFromQuery(queryObject(query), now()), ...scopeOf(read.decision, principal) };
      } catch (e) {
        return read.refuse(e as SluiceError, scope);
      }
      const detail = { filter: filterJson(filter), ...scope };
      let page;
      try {
        page = await deps.store.list(filter);
      } catch (e) {
        return storeFailed(read, e, detail);
      }
      const body: AuditPageJson = { records: page.records.map(recordJson), ...(page.next ? { next: page.next } : {}) };
      await read.answer(res, body, { ...detail, count: page.records.length });
    },

    async export(req, res, principal, path, query) {
      const read = begin(req, principal, 'list', path);
      const scope = read.decision.auditScope ? { scope: read.decision.auditScope } : {};
      await authorize(read, {});
      let filter: AuditListFilter;
      const range: TrailRange = {};
      try {
        const rest = new URLSearchParams(query);
        for (const k of ['fromSeq', 'toSeq'] as const) {
          const v = rest.get(k);
          if (v === null) continue;
          if (!/^[1-9][0-9]{0,15}$/.test(v) || rest.getAll(k).length > 1) throw new SluiceError('AUDIT_QUERY_INVALID', `invalid audit query: ${k} must be one trail seq (a positive integer)`);
          range[k] = Number(v);
          rest.delete(k);
        }
        filter = { ...auditFilterFromQuery(queryObject(rest), now()), ...scopeOf(read.decision, principal) };
      } catch (e) {
        return read.refuse(e as SluiceError, scope);
      }
      const { limit: _limit, before: _before, ...exportFilter } = filter;
      const filtered = Object.keys(exportFilter).length > 0;
      await read.stream(res, { filter: filterJson(filter), range, ...scope }, async (write) => {
        await exportTrail(deps.store, { ...(filtered ? { filter: exportFilter } : {}), range }, write);
      });
    },

    async show(req, res, principal, path, rawId) {
      const read = begin(req, principal, 'get', path, rawId.slice(0, 64));
      const found = await visibleRecord(read, principal, rawId);
      await read.answer(res, recordJson(found.record), { ...found.detail, id: found.record.id, count: 1 });
    },

    async terminal(req, res, principal, path, rawId, query) {
      const read = begin(req, principal, 'get', path, rawId.slice(0, 64), 'terminal');
      const { record, detail } = await visibleRecord(read, principal, rawId);
      if (!isTerminalSession(record)) {
        return read.refuse(new SluiceError('AUDIT_NOT_REPLAYABLE', `audit record ${record.id} is not an exec or attach session`), detail);
      }
      let chunks: RecordedChunk[];
      let check: BodyCheckResult;
      try {
        ({ chunks, check } = await checkedChunks(deps.store, record));
      } catch (e) {
        return storeFailed(read, e, detail);
      }
      if (chunks.length === 0) {
        return read.refuse(new SluiceError('AUDIT_NOT_REPLAYABLE', `nothing of session ${record.id} was recorded (recording off, or refused before it started)`), detail);
      }
      if (!check.ok && query.get('unverified') !== 'true') {
        return read.refuse(new SluiceError('AUDIT_NOT_REPLAYABLE', `session ${record.id} does not match the trail (${check.message}); ask with unverified=true to get it anyway`), detail);
      }
      const body: TerminalJson = { record: recordJson(record), chunks: chunks.map(chunkJson), ...verdict(check) };
      await read.answer(res, body, { ...detail, id: record.id, count: 1, chunks: chunks.length });
    },

    async body(req, res, principal, path, rawId) {
      const read = begin(req, principal, 'get', path, rawId.slice(0, 64), 'body');
      const { record, detail } = await visibleRecord(read, principal, rawId);
      let answer: BodyJson;
      try {
        answer = await recordedBodies(deps.store, record);
      } catch (e) {
        return storeFailed(read, e, detail);
      }
      await read.answer(res, answer, { ...detail, id: record.id, count: 1, chunks: answer.chunks.length });
    },
  };
}
