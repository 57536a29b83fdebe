/**
 * Renders a core/v1 `EventList` (k8s.io/api/core/v1 Event) the way `kubectl events` and the
 * Events section of `kubectl describe` do: oldest first, newest last, one line per event.
 * Times are shown as the timestamps the API server gave (no clock is read here); the "last
 * seen" time is `lastTimestamp`, else `series.lastObservedTime`, `eventTime`, `firstTimestamp`,
 * `metadata.creationTimestamp` (kubectl's own order of preference).
 */
import { isRecord, oneLine } from './results.ts';
import { alignColumns } from './table.ts';

const MESSAGE_LIMIT = 500;

export interface EventLine {
  namespace: string;
  lastSeen: string;
  type: string;
  reason: string;
  object: string;
  count: number;
  message: string;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** The events of a list, oldest first; undefined when `v` is not a list. */
export function readEvents(v: unknown): EventLine[] | undefined {
  if (!isRecord(v) || !Array.isArray(v.items)) return undefined;
  const lines = v.items.filter(isRecord).map((e): EventLine => {
    const meta = isRecord(e.metadata) ? e.metadata : {};
    const series = isRecord(e.series) ? e.series : {};
    const obj = isRecord(e.involvedObject) ? e.involvedObject : {};
    const lastSeen = str(e.lastTimestamp) || str(series.lastObservedTime) || str(e.eventTime) || str(e.firstTimestamp) || str(meta.creationTimestamp);
    const count = typeof series.count === 'number' ? series.count : typeof e.count === 'number' ? e.count : 1;
    const kind = str(obj.kind);
    return {
      namespace: str(meta.namespace),
      lastSeen: oneLine(lastSeen, 40) || '<unknown>',
      type: oneLine(str(e.type), 40),
      reason: oneLine(str(e.reason), 80),
      object: oneLine(kind ? `${kind.toLowerCase()}/${str(obj.name)}` : str(obj.name), 300),
      count,
      message: oneLine(str(e.message), MESSAGE_LIMIT),
    };
  });
  // Unreadable times sort first; a stable sort keeps the server's order for ties.
  const at = (e: EventLine): number => {
    const t = Date.parse(e.lastSeen);
    return Number.isNaN(t) ? -Infinity : t;
  };
  return lines.sort((a, b) => Math.sign(at(a) - at(b)) || 0);
}

/** The newest `max` events as aligned text (with a NAMESPACE column when asked for). */
export function renderEvents(events: EventLine[], opts: { max: number; namespaceColumn: boolean }): { text: string; shown: number } {
  const shown = events.slice(Math.max(0, events.length - opts.max));
  const columns = ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'COUNT', 'MESSAGE'];
  const rows = shown.map((e) => [e.lastSeen, e.type, e.reason, e.object, String(e.count), e.message]);
  if (opts.namespaceColumn) {
    return { text: alignColumns(['NAMESPACE', ...columns], shown.map((e, i) => [e.namespace, ...rows[i]!])), shown: shown.length };
  }
  return { text: alignColumns(columns, rows), shown: shown.length };
}
