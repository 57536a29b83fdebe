/**
 * The REST layer of the Kubernetes API emulator: what k8s.io/apiserver/pkg/endpoints/handlers
 * plus the generic registry do for every resource request that is not a pod stream, a review
 * or a TokenRequest. The server resolves the route (404/405) and hands the request here.
 */
import type { ObjectStore } from '../store/object-store.ts';
import { ObjectStore as Store } from '../store/object-store.ts';
import { startControllers } from '../store/controllers.ts';
import { seedDemo } from '../store/seed.ts';
import { StatusError, sendStatus, statusFailure } from '../status.ts';
import type { RestConfig, RestRequest } from './context.ts';
import { makeCtx } from './context.ts';
import { handleBinding, handleDelete, handleDeleteCollection, handleEviction } from './delete.ts';
import { handleGet, handleList, scaleOrGet } from './dispatch-helpers.ts';
import { handleWatch } from './watch.ts';
import { handleCreate, handlePatch, handleUpdate } from './write.ts';

export type { RestRequest, RestConfig } from './context.ts';

export interface Rest {
  handle(r: RestRequest): Promise<void>;
  store: ObjectStore;
  close(): void;
}

export interface CreateRestOptions {
  seed?: 'demo' | 'empty';
  now?: () => Date;
  /** Use this store instead of a new one. */
  store?: ObjectStore;
  bookmarkIntervalMs?: number;
  defaultWatchTimeoutMs?: number;
  /** Run the deployment controller and kubelet simulation (default true). */
  controllers?: boolean;
  podGraceMs?: number;
  namespaceTerminationMs?: number;
  podStartMs?: number;
}

export function createRest(opts: CreateRestOptions = {}): Rest {
  const now = opts.now ?? (() => new Date());
  const store = opts.store ?? new Store({ now, podGraceMs: opts.podGraceMs, namespaceTerminationMs: opts.namespaceTerminationMs });
  if (!opts.store && opts.seed !== 'empty') seedDemo(store);
  const controllers = opts.controllers === false ? undefined : startControllers(store, { podStartMs: opts.podStartMs });
  const config: RestConfig = {
    now,
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 1000,
    defaultWatchTimeoutMs: opts.defaultWatchTimeoutMs ?? 30 * 60 * 1000,
  };
  const closers = new Set<() => void>();

  async function handle(r: RestRequest): Promise<void> {
    const c = makeCtx(r, store, config);
    try {
      const verb = r.info.verb;
      const sub = r.info.subresource;
      if (sub === 'eviction' && verb === 'create') return handleEviction(c);
      if (sub === 'binding' && verb === 'create') return handleBinding(c);
      switch (verb) {
        case 'get':
          return sub === 'scale' ? scaleOrGet(c) : handleGet(c);
        case 'list':
          if (c.query.get('watch') === 'true' || c.query.get('watch') === '1') {
            return await tracked(closers, r, () => handleWatch(c));
          }
          return handleList(c);
        case 'watch':
          return await tracked(closers, r, () => handleWatch(c));
        case 'create':
          return handleCreate(c);
        case 'update':
          return handleUpdate(c);
        case 'patch':
          return handlePatch(c);
        case 'delete':
          return handleDelete(c);
        case 'deletecollection':
          return handleDeleteCollection(c);
        default:
          throw StatusError.of(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      }
    } catch (e) {
      if (r.res.headersSent) {
        r.res.destroy();
        return;
      }
      if (e instanceof StatusError) {
        sendStatus(r.res, e.status);
        return;
      }
      sendStatus(r.res, statusFailure(500, 'InternalError', `Internal error occurred: ${(e as Error).message ?? String(e)}`));
    }
  }

  return {
    handle,
    store,
    close() {
      for (const c of closers) c();
      closers.clear();
      controllers?.stop();
      store.close();
    },
  };
}

async function tracked(closers: Set<() => void>, r: RestRequest, run: () => Promise<void>): Promise<void> {
  const close = () => {
    if (!r.res.writableEnded) r.res.end();
  };
  closers.add(close);
  try {
    await run();
  } finally {
    closers.delete(close);
  }
}
