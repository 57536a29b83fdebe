/**
 * watch, after k8s.io/apiserver/pkg/endpoints/handlers/watch.go (chunked newline-delimited JSON
 * `{"type":…,"object":…}`, flushed per event, Table objects with column definitions on the
 * first event only) and the cacher (k8s.io/apiserver/pkg/storage/cacher): resourceVersion
 * unset/"0" → synthetic ADDED events for the current state, then live; a specific RV → replay
 * of the history after it; an RV older than the history → an ERROR event carrying a 410
 * Expired Status; selector transitions turn MODIFIED into ADDED/DELETED; BOOKMARK events with
 * allowWatchBookmarks; sendInitialEvents=true + resourceVersionMatch=NotOlderThan ends the
 * initial events with a BOOKMARK annotated `k8s.io/initial-events-end: "true"`; timeoutSeconds.
 */
import { apiVersionOf } from '../resources.ts';
import { StatusError, statusFailure } from '../status.ts';
import type { StatusObject } from '../status.ts';
import { invalid } from '../store/errors.ts';
import type { StoredEvent } from '../store/object-store.ts';
import type { KubeObject } from '../types.ts';
import type { Ctx } from './context.ts';
import { boolParam, isPretty, warningHeaderValues } from './context.ts';
import { parseFieldSelector } from './fields.ts';
import type { Selectors } from './read.ts';
import { matches, render, selectorsOf } from './read.ts';

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export function handleWatch(c: Ctx): Promise<void> {
  const sel: Selectors = selectorsOf(c);
  // Legacy /watch/namespaces/ns/pods/name: the name in the path is a metadata.name selector.
  if (c.info.verbViaPathPrefix && c.info.name && !sel.fields.some((f) => f.field === 'metadata.name')) {
    sel.fields.push(...parseFieldSelector(`metadata.name=${c.info.name}`));
    sel.everything = false;
  }
  const rvParam = c.query.get('resourceVersion') ?? '';
  const match = c.query.get('resourceVersionMatch') ?? '';
  const sendInitialRaw = c.query.get('sendInitialEvents');
  const bookmarks = boolParam(c, 'allowWatchBookmarks');
  if (sendInitialRaw !== null) {
    if (match !== 'NotOlderThan') {
      throw invalid('ListOptions', 'meta.k8s.io', '', [{ type: 'FieldValueForbidden', field: 'resourceVersionMatch', message: "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan" }]);
    }
    if (!bookmarks) {
      throw invalid('ListOptions', 'meta.k8s.io', '', [{ type: 'FieldValueForbidden', field: 'allowWatchBookmarks', message: 'Forbidden: allowWatchBookmarks must be true if sendInitialEvents = true' }]);
    }
  } else if (match) {
    throw invalid('ListOptions', 'meta.k8s.io', '', [{ type: 'FieldValueForbidden', field: 'resourceVersionMatch', message: 'Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided' }]);
  }
  if (rvParam && !/^\d+$/.test(rvParam)) {
    throw StatusError.of(400, 'BadRequest', `resourceVersion: Invalid value: "${rvParam}": strconv.ParseUint: parsing "${rvParam}": invalid syntax`);
  }
  const sendInitial = sendInitialRaw !== null ? boolParam(c, 'sendInitialEvents') : rvParam === '' || rvParam === '0';
  const timeoutS = Number.parseInt(c.query.get('timeoutSeconds') ?? '', 10);
  const timeoutMs = Number.isFinite(timeoutS) && timeoutS > 0 ? timeoutS * 1000 : c.config.defaultWatchTimeoutMs;

  const { res } = c;
  const headers: Record<string, string | string[]> = {
    'content-type': 'application/json',
    'cache-control': 'no-cache, private',
    'transfer-encoding': 'chunked',
  };
  if (c.warnings.length) headers.warning = warningHeaderValues(c);
  res.writeHead(200, headers);
  res.flushHeaders();
  const pretty = isPretty(c);
  let first = true;
  let lastRV = Number(c.store.resourceVersion());

  const send = (type: EventType, object: unknown): void => {
    if (res.writableEnded || res.destroyed) return;
    const line = pretty ? JSON.stringify({ type, object }, null, 2) : JSON.stringify({ type, object });
    res.write(`${line}\n`);
  };
  const sendObject = (type: EventType, o: KubeObject): void => {
    const rendered = render(c, o, !first);
    first = false;
    send(type, rendered);
    const rv = Number(o.metadata.resourceVersion ?? 0);
    if (rv > lastRV) lastRV = rv;
  };
  const bookmark = (annotations?: Record<string, string>): void => {
    const metadata: Record<string, unknown> = { resourceVersion: String(lastRV) };
    if (annotations) metadata.annotations = annotations;
    send('BOOKMARK', { kind: c.def.kind, apiVersion: apiVersionOf(c.def), metadata });
  };

  return new Promise<void>((resolve) => {
    let handle: { stop(): void } | undefined;
    const timers: NodeJS.Timeout[] = [];
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      handle?.stop();
      for (const t of timers) clearTimeout(t);
      if (!res.writableEnded) res.end();
      resolve();
    };

    res.on('close', finish);

    const onEvent = (e: StoredEvent): void => {
      const now = matches(c, sel, e.object);
      const before = e.prev ? matches(c, sel, e.prev) : false;
      if (e.type === 'ADDED') {
        if (now) sendObject('ADDED', e.object);
      } else if (e.type === 'MODIFIED') {
        if (now && before) sendObject('MODIFIED', e.object);
        else if (now) sendObject('ADDED', e.object);
        else if (before) sendObject('DELETED', e.object);
      } else if (e.type === 'DELETED') {
        if (before || now) sendObject('DELETED', e.object);
      }
      if (e.rv > lastRV) lastRV = e.rv;
    };

    try {
      if (sendInitial && (rvParam === '' || rvParam === '0' || sendInitialRaw !== null)) {
        const { items, resourceVersion } = c.store.list(c.def, c.namespace);
        for (const o of items) if (matches(c, sel, o)) sendObject('ADDED', o);
        lastRV = Number(resourceVersion);
        if (sendInitialRaw !== null) bookmark({ 'k8s.io/initial-events-end': 'true' });
        handle = c.store.watch(c.def, c.namespace, lastRV, onEvent);
      } else {
        const from = rvParam === '' || rvParam === '0' ? undefined : Number(rvParam);
        if (from !== undefined) lastRV = Math.max(from, 0);
        handle = c.store.watch(c.def, c.namespace, from, onEvent);
      }
    } catch (e) {
      const status: StatusObject = e instanceof StatusError ? e.status : statusFailure(500, 'InternalError', String(e));
      send('ERROR', status);
      finish();
      return;
    }
    timers.push(setTimeout(finish, timeoutMs));
    if (bookmarks) {
      const iv = setInterval(() => {
        if (!done) bookmark();
      }, c.config.bookmarkIntervalMs);
      const stopIv = (): void => clearInterval(iv);

      res.on('close', stopIv);
      res.on('finish', stopIv);
    }
  });
}
