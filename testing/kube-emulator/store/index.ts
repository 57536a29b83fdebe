/** The emulator's storage: object store, history, controllers and the demo seed. */
export { ObjectStore, resourceKey, clone, randomSuffix } from './object-store.ts';
export type { StoreOptions, WriteOptions, DeleteOptions, DeleteResult, WatchListener, WatchHandle, StoredEvent, EventType } from './object-store.ts';
export { EventHistory } from './history.ts';
export { startControllers, templateHash, runningPodStatus } from './controllers.ts';
export { seedDemo, FAKE } from './seed.ts';
export * from './errors.ts';
