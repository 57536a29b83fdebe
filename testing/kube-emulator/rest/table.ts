/**
 * Server-side printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`): the
 * meta.k8s.io Table kubectl get renders, with the columns and cell values of
 * k8s.io/kubernetes/pkg/printers/internalversion/printers.go for the built-in kinds, the
 * additionalPrinterColumns of the CRD, Age via apimachinery/pkg/util/duration.HumanDuration,
 * and rows carrying the object as includeObject=None|Metadata(default)|Object asks
 * (k8s.io/apiserver/pkg/endpoints/handlers/response.go asTable).
 */
import type { ResourceDef, TableColumn } from '../resources.ts';
import type { KubeObject } from '../types.ts';

export interface TableColumnDefinition { name: string; type: string; format: string; description: string; priority: number }
export interface TableRow { cells: unknown[]; object?: unknown }
export interface Table {
  kind: 'Table';
  apiVersion: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: TableColumnDefinition[] | null;
  rows: TableRow[];
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** The Table group/version the Accept header asks for, or undefined when it asks for none. */
export function wantsTable(accept: string): 'v1' | 'v1beta1' | undefined {
  for (const part of accept.split(',')) {
    const params = part.split(';').map((s) => s.trim());
    if (params[0] !== 'application/json' && params[0] !== '*/*') continue;
    const kv = new Map(params.slice(1).map((p) => p.split('=') as [string, string]));
    if (kv.get('as') === 'Table' && kv.get('g') === 'meta.k8s.io') {
      const v = kv.get('v');
      if (v === 'v1' || v === 'v1beta1') return v;
    }
    if (!kv.has('as')) return undefined;
  }
  return undefined;
}

/** Whether Accept asks for PartialObjectMetadata(List). */
export function wantsPartialMetadata(accept: string): 'v1' | 'v1beta1' | undefined {
  for (const part of accept.split(',')) {
    const params = part.split(';').map((s) => s.trim());
    const kv = new Map(params.slice(1).map((p) => p.split('=') as [string, string]));
    if ((kv.get('as') === 'PartialObjectMetadata' || kv.get('as') === 'PartialObjectMetadataList') && kv.get('g') === 'meta.k8s.io') {
      const v = kv.get('v');
      if (v === 'v1' || v === 'v1beta1') return v;
    }
    if (!kv.has('as')) return undefined;
  }
  return undefined;
}

/** duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(seconds / 3600);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

const NAME_COL: TableColumnDefinition = {
  name: 'Name', type: 'string', format: 'name', priority: 0,
  description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
};
const AGE_COL: TableColumnDefinition = {
  name: 'Age', type: 'string', format: '', priority: 0,
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
};

const toDef = (c: TableColumn): TableColumnDefinition => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description, priority: c.priority });

/** Name, the resource's columns, with Age after the default (priority 0) ones; events and "Created At" kinds differ. */
export function columnsFor(def: ResourceDef): TableColumnDefinition[] {
  const cols = (def.columns ?? []).map(toDef);
  if (def.resource === 'events') return [...cols, { ...NAME_COL, priority: 1 }];
  if (cols.some((c) => c.name === 'Created At')) return [NAME_COL, ...cols];
  const firstWide = cols.findIndex((c) => c.priority > 0);
  if (firstWide < 0) return [NAME_COL, ...cols, AGE_COL];
  return [NAME_COL, ...cols.slice(0, firstWide), AGE_COL, ...cols.slice(firstWide)];
}

const at = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((c, k) => (c && typeof c === 'object' ? (c as Record<string, unknown>)[k] : undefined), o);
const arr = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? (v as Record<string, unknown>[]) : []);
const orNone = (s: string): string => (s ? s : '<none>');

function podStatus(o: KubeObject): string {
  if (o.metadata.deletionTimestamp) return 'Terminating';
  let reason = String(at(o, 'status', 'reason') ?? at(o, 'status', 'phase') ?? 'Pending');
  for (const cs of arr(at(o, 'status', 'containerStatuses'))) {
    const waiting = at(cs, 'state', 'waiting', 'reason');
    const term = at(cs, 'state', 'terminated', 'reason');
    if (typeof waiting === 'string' && waiting) reason = waiting;
    else if (typeof term === 'string' && term) reason = term;
  }
  return reason;
}

function selectorString(sel: unknown): string {
  if (!sel || typeof sel !== 'object') return '<none>';
  const s = Object.entries(sel as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',');
  return s || '<none>';
}

function cellsFor(def: ResourceDef, o: KubeObject, now: Date): Record<string, unknown> {
  const age = humanDuration(now.getTime() - Date.parse(o.metadata.creationTimestamp ?? now.toISOString()));
  const c: Record<string, unknown> = { Name: o.metadata.name ?? '', Age: age };
  switch (`${def.group}/${def.resource}`) {
    case '/namespaces':
      c.Status = String(at(o, 'status', 'phase') ?? '');
      break;
    case '/pods': {
      const cs = arr(at(o, 'status', 'containerStatuses'));
      const total = arr(at(o, 'spec', 'containers')).length;
      c.Ready = `${cs.filter((s) => s.ready === true).length}/${total}`;
      c.Status = podStatus(o);
      c.Restarts = String(cs.reduce((n, s) => n + (typeof s.restartCount === 'number' ? s.restartCount : 0), 0));
      c.IP = orNone(String(at(o, 'status', 'podIP') ?? ''));
      c.Node = orNone(String(at(o, 'spec', 'nodeName') ?? ''));
      break;
    }
    case '/services': {
      c.Type = String(at(o, 'spec', 'type') ?? 'ClusterIP');
      c['Cluster-IP'] = orNone(String(at(o, 'spec', 'clusterIP') ?? ''));
      const ext = arr(at(o, 'status', 'loadBalancer', 'ingress')).map((i) => String(i.ip ?? i.hostname ?? ''));
      c['External-IP'] = ext.length ? ext.join(',') : c.Type === 'LoadBalancer' ? '<pending>' : '<none>';
      const ports = arr(at(o, 'spec', 'ports')).map((p) => `${String(p.port)}${p.nodePort ? `:${String(p.nodePort)}` : ''}/${String(p.protocol ?? 'TCP')}`);
      c['Port(s)'] = ports.length ? ports.join(',') : '<none>';
      c.Selector = selectorString(at(o, 'spec', 'selector'));
      break;
    }
    case '/configmaps':
      c.Data = Object.keys((o.data as object | undefined) ?? {}).length + Object.keys((o.binaryData as object | undefined) ?? {}).length;
      break;
    case '/secrets':
      c.Type = String(o.type ?? 'Opaque');
      c.Data = Object.keys((o.data as object | undefined) ?? {}).length;
      break;
    case '/serviceaccounts':
      c.Secrets = arr(o.secrets).length;
      break;
    case '/events': {
      const last = String(o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp ?? '');
      c['Last Seen'] = last ? humanDuration(now.getTime() - Date.parse(last)) : '<unknown>';
      c.Type = String(o.type ?? '');
      c.Reason = String(o.reason ?? '');
      c.Object = `${String(at(o, 'involvedObject', 'kind') ?? '').toLowerCase()}/${String(at(o, 'involvedObject', 'name') ?? '')}`;
      c.Message = String(o.message ?? '').trim();
      break;
    }
    case 'apps/deployments': {
      const desired = Number(at(o, 'spec', 'replicas') ?? 1);
      c.Ready = `${Number(at(o, 'status', 'readyReplicas') ?? 0)}/${desired}`;
      c['Up-to-date'] = Number(at(o, 'status', 'updatedReplicas') ?? 0);
      c.Available = Number(at(o, 'status', 'availableReplicas') ?? 0);
      const containers = arr(at(o, 'spec', 'template', 'spec', 'containers'));
      c.Containers = containers.map((x) => String(x.name)).join(',');
      c.Images = containers.map((x) => String(x.image)).join(',');
      c.Selector = selectorString(at(o, 'spec', 'selector', 'matchLabels'));
      break;
    }
    case 'rbac.authorization.k8s.io/rolebindings':
    case 'rbac.authorization.k8s.io/clusterrolebindings':
      c.Role = `${String(at(o, 'roleRef', 'kind') ?? '')}/${String(at(o, 'roleRef', 'name') ?? '')}`;
      break;
    case 'demo.sluice.dev/widgets':
      c.Size = at(o, 'spec', 'size') ?? null;
      c.Color = at(o, 'spec', 'color') ?? null;
      break;
    default:
      break;
  }
  if (c['Created At'] === undefined) c['Created At'] = o.metadata.creationTimestamp ?? '';
  return c;
}

export function partialObjectMetadata(o: KubeObject, version: 'v1' | 'v1beta1' = 'v1'): Record<string, unknown> {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: o.metadata };
}

export interface TableOptions {
  version: 'v1' | 'v1beta1';
  includeObject: IncludeObject;
  noHeaders?: boolean;
  now: Date;
  listMeta?: Table['metadata'];
}

export function toTable(def: ResourceDef, objects: KubeObject[], opts: TableOptions): Table {
  const cols = columnsFor(def);
  const rows = objects.map((o): TableRow => {
    const cells = cellsFor(def, o, opts.now);
    const row: TableRow = { cells: cols.map((col) => cells[col.name] ?? null) };
    if (opts.includeObject === 'Object') row.object = o;
    else if (opts.includeObject === 'Metadata') row.object = partialObjectMetadata(o, opts.version);
    else row.object = null;
    return row;
  });
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${opts.version}`,
    metadata: opts.listMeta ?? {},
    columnDefinitions: opts.noHeaders ? null : cols,
    rows,
  };
}
