/**
 * In-memory storage for the test identity provider's artifacts (sessions, interactions, codes,
 * grants, tokens). One store per provider instance, so parallel test providers never share
 * state; entries expire like the provider asked. Passing it as `adapter` also keeps
 * oidc-provider from warning about its own quick-start adapter.
 */
import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  expiresAt?: number;
}

/** Create an adapter factory whose models all live in one private Map. */
export function createMemoryStore(now: () => number = Date.now): AdapterFactory {
  const entries = new Map<string, Entry>();
  const byIndex = new Map<string, string>(); // "<model>:uid:<uid>" / "userCode:" / "grant:" → key

  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };

  return (name: string): Adapter => {
    const key = (id: string) => `${name}:${id}`;
    const grantIndex = (grantId: string) => `grant:${grantId}`;
    return {
      async upsert(id, payload, expiresIn) {
        entries.set(key(id), {
          payload: { ...payload },
          ...(expiresIn ? { expiresAt: now() + expiresIn * 1000 } : {}),
        });
        if (payload.uid) byIndex.set(`${name}:uid:${payload.uid}`, key(id));
        if (payload.userCode) byIndex.set(`${name}:userCode:${payload.userCode}`, key(id));
        if (payload.grantId) {
          const list = byIndex.get(grantIndex(payload.grantId));
          byIndex.set(grantIndex(payload.grantId), list ? `${list}\n${key(id)}` : key(id));
        }
      },
      async find(id) {
        return live(key(id))?.payload;
      },
      async findByUid(uid) {
        const k = byIndex.get(`${name}:uid:${uid}`);
        return k ? live(k)?.payload : undefined;
      },
      async findByUserCode(userCode) {
        const k = byIndex.get(`${name}:userCode:${userCode}`);
        return k ? live(k)?.payload : undefined;
      },
      async consume(id) {
        const entry = live(key(id));
        if (entry) entry.payload.consumed = Math.floor(now() / 1000);
      },
      async destroy(id) {
        entries.delete(key(id));
      },
      async revokeByGrantId(grantId) {
        for (const k of (byIndex.get(grantIndex(grantId)) ?? '').split('\n')) if (k) entries.delete(k);
        byIndex.delete(grantIndex(grantId));
      },
    };
  };
}
