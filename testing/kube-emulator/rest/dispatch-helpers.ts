/** Read-side dispatch helpers: GET on an object or on its autoscaling/v1 Scale view. */
import { notFound } from '../store/errors.ts';
import type { Ctx } from './context.ts';
import { writeJson } from './context.ts';
import { handleGet, handleList } from './read.ts';
import { scaleOf } from './write.ts';

export { handleGet, handleList };

export function scaleOrGet(c: Ctx): void {
  const o = c.store.get(c.def, c.namespace, c.info.name);
  if (!o) throw notFound(c.def, c.info.name);
  writeJson(c, 200, scaleOf(o));
}
