/**
 * The resource registry of the emulator: every API resource it serves, as discovery (legacy and
 * aggregated v2), OpenAPI, the REST handlers and `as=Table` read them. One table, one truth.
 * Names, short names, verbs and categories are those of a real v1.30 API server.
 */

export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description: string;
  /** Priority 0 columns show by default; 1 only with `-o wide`. */
  priority: number;
}

export interface SubresourceDef {
  name: string; // e.g. "log", "exec", "status", "scale", "token"
  kind: string; // response kind, e.g. "Pod", "PodExecOptions", "Scale", "TokenRequest"
  group?: string; // response kind's group/version when it differs (Scale: autoscaling/v1)
  version?: string;
  verbs: string[];
}

export interface ResourceDef {
  group: string; // "" for the core group
  version: string;
  resource: string; // plural, e.g. "pods"
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs: string[];
  subresources?: SubresourceDef[];
  /** The API server accepts protobuf bodies for built-in types; CRDs are JSON-only (415/406). */
  protobuf: boolean;
  /** Extra table columns (after Name); Age is appended by the table printer. */
  columns?: TableColumn[];
}

const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const col = (name: string, type: TableColumn['type'], description: string, priority = 0): TableColumn => ({
  name,
  type,
  description,
  priority,
});

export const RESOURCES: ResourceDef[] = [
  {
    group: '', version: 'v1', resource: 'namespaces', singular: 'namespace', kind: 'Namespace', listKind: 'NamespaceList',
    namespaced: false, shortNames: ['ns'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], protobuf: true,
    subresources: [{ name: 'status', kind: 'Namespace', verbs: ['get', 'patch', 'update'] }, { name: 'finalize', kind: 'Namespace', verbs: ['update'] }],
    columns: [col('Status', 'string', 'The status of the namespace')],
  },
  {
    group: '', version: 'v1', resource: 'pods', singular: 'pod', kind: 'Pod', listKind: 'PodList', namespaced: true,
    shortNames: ['po'], categories: ['all'], verbs: CRUD, protobuf: true,
    subresources: [
      { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
      { name: 'binding', kind: 'Binding', verbs: ['create'] },
      { name: 'ephemeralcontainers', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
      { name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
      { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'log', kind: 'Pod', verbs: ['get'] },
      { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
      { name: 'proxy', kind: 'PodProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
      { name: 'status', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
    ],
    columns: [
      col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'string', 'The aggregate status of the containers in this pod.'),
      col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
      col('IP', 'string', 'IP address allocated to the pod.', 1),
      col('Node', 'string', 'Name of the Node this pod is scheduled on.', 1),
    ],
  },
  {
    group: '', version: 'v1', resource: 'services', singular: 'service', kind: 'Service', listKind: 'ServiceList', namespaced: true,
    shortNames: ['svc'], categories: ['all'], verbs: CRUD.filter((v) => v !== 'deletecollection'), protobuf: true,
    subresources: [
      { name: 'proxy', kind: 'ServiceProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
      { name: 'status', kind: 'Service', verbs: ['get', 'patch', 'update'] },
    ],
    columns: [
      col('Type', 'string', 'The type of the service.'),
      col('Cluster-IP', 'string', 'The cluster IP of the service.'),
      col('External-IP', 'string', 'The external IP of the service.'),
      col('Port(s)', 'string', 'The ports of the service.'),
      col('Selector', 'string', 'The label selector of the service.', 1),
    ],
  },
  {
    group: '', version: 'v1', resource: 'configmaps', singular: 'configmap', kind: 'ConfigMap', listKind: 'ConfigMapList',
    namespaced: true, shortNames: ['cm'], verbs: CRUD, protobuf: true,
    columns: [col('Data', 'string', 'Number of entries in the config map.')],
  },
  {
    group: '', version: 'v1', resource: 'secrets', singular: 'secret', kind: 'Secret', listKind: 'SecretList', namespaced: true,
    verbs: CRUD, protobuf: true,
    columns: [col('Type', 'string', 'The type of the secret'), col('Data', 'string', 'Number of entries in the secret.')],
  },
  {
    group: '', version: 'v1', resource: 'serviceaccounts', singular: 'serviceaccount', kind: 'ServiceAccount',
    listKind: 'ServiceAccountList', namespaced: true, shortNames: ['sa'], verbs: CRUD, protobuf: true,
    subresources: [{ name: 'token', kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] }],
    columns: [col('Secrets', 'string', 'Number of secrets.')],
  },
  {
    group: '', version: 'v1', resource: 'events', singular: 'event', kind: 'Event', listKind: 'EventList', namespaced: true,
    shortNames: ['ev'], verbs: CRUD, protobuf: true,
    columns: [
      col('Last Seen', 'string', 'Time of the last occurrence.'),
      col('Type', 'string', 'Type of this event.'),
      col('Reason', 'string', 'Short, machine understandable reason.'),
      col('Object', 'string', 'The object this event is about.'),
      col('Message', 'string', 'A human-readable description.'),
    ],
  },
  {
    group: 'apps', version: 'v1', resource: 'deployments', singular: 'deployment', kind: 'Deployment', listKind: 'DeploymentList',
    namespaced: true, shortNames: ['deploy'], categories: ['all'], verbs: CRUD, protobuf: true,
    subresources: [
      { name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] },
      { name: 'status', kind: 'Deployment', verbs: ['get', 'patch', 'update'] },
    ],
    columns: [
      col('Ready', 'string', 'Number of the pod with ready state'),
      col('Up-to-date', 'string', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
      col('Available', 'string', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
      col('Containers', 'string', 'Names of each container in the template.', 1),
      col('Images', 'string', 'Images referenced by each container in the template.', 1),
      col('Selector', 'string', 'Label selector for pods.', 1),
    ],
  },
  ...(['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'] as const).map((resource): ResourceDef => {
    const kind = { roles: 'Role', rolebindings: 'RoleBinding', clusterroles: 'ClusterRole', clusterrolebindings: 'ClusterRoleBinding' }[resource];
    return {
      group: 'rbac.authorization.k8s.io', version: 'v1', resource, singular: kind.toLowerCase(), kind, listKind: `${kind}List`,
      namespaced: !resource.startsWith('cluster'), verbs: CRUD, protobuf: true,
      columns: resource.endsWith('bindings') ? [col('Role', 'string', 'The role referenced by this binding.')] : [col('Created At', 'date', 'Creation time.')],
    };
  }),
  {
    group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview',
    kind: 'SelfSubjectAccessReview', listKind: 'SelfSubjectAccessReviewList', namespaced: false, verbs: ['create'], protobuf: true,
  },
  {
    group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectrulesreviews', singular: 'selfsubjectrulesreview',
    kind: 'SelfSubjectRulesReview', listKind: 'SelfSubjectRulesReviewList', namespaced: false, verbs: ['create'], protobuf: true,
  },
  {
    group: 'authentication.k8s.io', version: 'v1', resource: 'selfsubjectreviews', singular: 'selfsubjectreview',
    kind: 'SelfSubjectReview', listKind: 'SelfSubjectReviewList', namespaced: false, verbs: ['create'], protobuf: true,
  },
  // Still served by v1.30 (removed in 1.32); kubectl ≤ 1.27 `auth whoami` asks for it.
  {
    group: 'authentication.k8s.io', version: 'v1beta1', resource: 'selfsubjectreviews', singular: 'selfsubjectreview',
    kind: 'SelfSubjectReview', listKind: 'SelfSubjectReviewList', namespaced: false, verbs: ['create'], protobuf: true,
  },
  {
    group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions', singular: 'customresourcedefinition',
    kind: 'CustomResourceDefinition', listKind: 'CustomResourceDefinitionList', namespaced: false, shortNames: ['crd', 'crds'],
    categories: ['api-extensions'], verbs: CRUD, protobuf: true,
    subresources: [{ name: 'status', kind: 'CustomResourceDefinition', verbs: ['get', 'patch', 'update'] }],
    columns: [col('Created At', 'date', 'Creation time.')],
  },
  // The one custom resource: JSON only, like every CRD (protobuf requests get 415, Accept of only protobuf 406).
  {
    group: 'demo.sluice.dev', version: 'v1', resource: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList',
    namespaced: true, shortNames: ['wg'], categories: ['all'], verbs: CRUD, protobuf: false,
    subresources: [{ name: 'status', kind: 'Widget', verbs: ['get', 'patch', 'update'] }],
    columns: [col('Size', 'integer', 'Desired size of the widget.'), col('Color', 'string', 'Colour of the widget.', 1)],
  },
];

/** Preferred versions per group, in the order discovery lists groups. */
export const GROUPS: { name: string; versions: string[] }[] = [];
for (const r of RESOURCES) {
  let g = GROUPS.find((x) => x.name === r.group);
  if (!g) GROUPS.push((g = { name: r.group, versions: [] }));
  if (!g.versions.includes(r.version)) g.versions.push(r.version);
}

export function findResource(group: string, version: string, resource: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);
}


export function apiVersionOf(r: Pick<ResourceDef, 'group' | 'version'>): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}
