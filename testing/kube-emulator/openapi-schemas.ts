/**
 * OpenAPI v3 component schemas for the kinds the emulator serves, in the shape the real API
 * server publishes them (k8s.io/kube-openapi, `/openapi/v3/{prefix}/{group}/{version}`): names like
 * `io.k8s.api.core.v1.Pod`, references as `allOf: [{$ref}]`, `x-kubernetes-group-version-kind` on
 * top-level kinds, and the strategic-merge-patch extensions from the Go struct tags
 * (`x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`, `x-kubernetes-list-type`,
 * `x-kubernetes-list-map-keys`) that client-side `kubectl apply` relies on. Field sets are a
 * faithful subset (the fields tests and demos use), descriptions abridged from k8s.io/api.
 */
import { RESOURCES, type ResourceDef } from './resources.ts';

export type Schema = { [k: string]: unknown };

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const CORE = 'io.k8s.api.core.v1';
const APPS = 'io.k8s.api.apps.v1';
const RBAC = 'io.k8s.api.rbac.v1';
const AUTHZ = 'io.k8s.api.authorization.v1';
const AUTHN = 'io.k8s.api.authentication.v1';
const APIEXT = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1';

/** The schema name prefix for a group/version (CRDs use the reversed group, like the real server). */
export function schemaPackage(group: string, version: string): string {
  switch (group) {
    case '':
      return `io.k8s.api.core.${version}`;
    case 'apiextensions.k8s.io':
      return `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${version}`;
    default:
      if (group.endsWith('.k8s.io')) return `io.k8s.api.${group.slice(0, -'.k8s.io'.length).split('.')[0]}.${version}`;
      if (!group.includes('.')) return `io.k8s.api.${group}.${version}`;
      return `${group.split('.').reverse().join('.')}.${version}`;
  }
}

export function schemaName(group: string, version: string, kind: string): string {
  return `${schemaPackage(group, version)}.${kind}`;
}

// ---- a tiny DSL -------------------------------------------------------------------------------
const str = (description: string, extra: Schema = {}): Schema => ({ description, type: 'string', ...extra });
const int = (description: string): Schema => ({ description, type: 'integer', format: 'int32' });
const int64 = (description: string): Schema => ({ description, type: 'integer', format: 'int64' });
const bool = (description: string): Schema => ({ description, type: 'boolean' });
const time = (description: string): Schema => ({ description, allOf: [{ $ref: `#/components/schemas/${META}.Time` }] });
const ref = (name: string, description: string): Schema => ({
  description,
  default: {},
  allOf: [{ $ref: `#/components/schemas/${name}` }],
});
const strMap = (description: string): Schema => ({
  description,
  type: 'object',
  additionalProperties: { type: 'string', default: '' },
});
const strList = (description: string, extra: Schema = {}): Schema => ({
  description,
  type: 'array',
  items: { type: 'string', default: '' },
  ...extra,
});
const refList = (name: string, description: string, extra: Schema = {}): Schema => ({
  description,
  type: 'array',
  items: { default: {}, allOf: [{ $ref: `#/components/schemas/${name}` }] },
  ...extra,
});
/** A list merged by key in strategic merge patch and a map-list for server-side apply. */
const mergeList = (name: string, description: string, key: string, mapKeys: string[] = [key], strategy = 'merge'): Schema =>
  refList(name, description, {
    'x-kubernetes-list-map-keys': mapKeys,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-patch-merge-key': key,
    'x-kubernetes-patch-strategy': strategy,
  });
const obj = (description: string, properties: Record<string, Schema>, required?: string[]): Schema => {
  const s: Schema = { description, type: 'object', properties };
  if (required) s.required = required;
  return s;
};
const kindFields = (): Record<string, Schema> => ({
  apiVersion: str(
    'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources',
  ),
  kind: str(
    'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
  ),
});
const metadataField = (): Schema =>
  ref(`${META}.ObjectMeta`, "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata");
const gvk = (group: string, version: string, kind: string): Schema => ({
  'x-kubernetes-group-version-kind': [{ group, kind, version }],
});
/** A top-level kind: apiVersion, kind, metadata plus its own fields. */
const kindObj = (group: string, version: string, kind: string, description: string, props: Record<string, Schema>, required?: string[]): Schema => ({
  ...obj(description, { ...kindFields(), metadata: metadataField(), ...props }, required),
  ...gvk(group, version, kind),
});
const listObj = (group: string, version: string, kind: string, item: string): Schema => ({
  ...obj(
    `${kind} is a list of ${kind.replace(/List$/, '')} objects.`,
    {
      ...kindFields(),
      items: refList(item, `List of ${kind.replace(/List$/, '').toLowerCase()}s.`),
      metadata: ref(`${META}.ListMeta`, "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"),
    },
    ['items'],
  ),
  ...gvk(group, version, kind),
});
const preserve = (description: string): Schema => ({ description, type: 'object', 'x-kubernetes-preserve-unknown-fields': true });

// ---- shared meta types ------------------------------------------------------------------------
const metaSchemas: Record<string, Schema> = {
  [`${META}.Time`]: { description: 'Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON.', type: 'string', format: 'date-time' },
  [`${META}.ObjectMeta`]: obj(
    'ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.',
    {
      annotations: strMap('Annotations is an unstructured key value map stored with a resource that may be set by external tools to store and retrieve arbitrary metadata.'),
      creationTimestamp: time('CreationTimestamp is a timestamp representing the server time when this object was created.'),
      deletionGracePeriodSeconds: int64('Number of seconds allowed for this object to gracefully terminate before it will be removed from the system.'),
      deletionTimestamp: time('DeletionTimestamp is RFC 3339 date and time at which this resource will be deleted.'),
      finalizers: strList('Must be empty before the object is deleted from the registry.', { 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' }),
      generateName: str('GenerateName is an optional prefix, used by the server, to generate a unique name ONLY IF the Name field has not been provided.'),
      generation: int64('A sequence number representing a specific generation of the desired state.'),
      labels: strMap('Map of string keys and values that can be used to organize and categorize (scope and select) objects.'),
      managedFields: refList(`${META}.ManagedFieldsEntry`, 'ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow.', { 'x-kubernetes-list-type': 'atomic' }),
      name: str('Name must be unique within a namespace.'),
      namespace: str('Namespace defines the space within which each name must be unique.'),
      ownerReferences: mergeList(`${META}.OwnerReference`, 'List of objects depended by this object.', 'uid', ['uid']),
      resourceVersion: str('An opaque value that represents the internal version of this object.'),
      selfLink: str('Deprecated: selfLink is a legacy read-only field that is no longer populated by the system.'),
      uid: str('UID is the unique in time and space value for this object.'),
    },
  ),
  [`${META}.ListMeta`]: obj('ListMeta describes metadata that synthetic resources must have, including lists and various status objects.', {
    continue: str('continue may be set if the user set a limit on the number of items returned.'),
    remainingItemCount: int64('remainingItemCount is the number of subsequent items in the list which are not included in this list response.'),
    resourceVersion: str("String that identifies the server's internal version of this object."),
    selfLink: str('Deprecated: selfLink is a legacy read-only field that is no longer populated by the system.'),
  }),
  [`${META}.OwnerReference`]: {
    ...obj(
      'OwnerReference contains enough information to let you identify an owning object.',
      {
        apiVersion: str('API version of the referent.', { default: '' }),
        blockOwnerDeletion: bool('If true, AND if the owner has the "foregroundDeletion" finalizer, then the owner cannot be deleted from the key-value store until this reference is removed.'),
        controller: bool('If true, this reference points to the managing controller.'),
        kind: str('Kind of the referent.', { default: '' }),
        name: str('Name of the referent.', { default: '' }),
        uid: str('UID of the referent.', { default: '' }),
      },
      ['apiVersion', 'kind', 'name', 'uid'],
    ),
    'x-kubernetes-map-type': 'atomic',
  },
  [`${META}.ManagedFieldsEntry`]: obj('ManagedFieldsEntry is a workflow-id, a FieldSet and the group version of the resource that the fieldset applies to.', {
    apiVersion: str('APIVersion defines the version of this resource that this field set applies to.'),
    fieldsType: str('FieldsType is the discriminator for the different fields format and version.'),
    fieldsV1: { description: 'FieldsV1 holds the first JSON version format as described in the "FieldsV1" type.', type: 'object' },
    manager: str('Manager is an identifier of the workflow managing these fields.'),
    operation: str('Operation is the type of operation which lead to this ManagedFieldsEntry being created.'),
    subresource: str('Subresource is the name of the subresource used to update that object.'),
    time: time('Time is the timestamp of when the ManagedFields entry was added.'),
  }),
  [`${META}.LabelSelector`]: {
    ...obj('A label selector is a label query over a set of resources.', {
      matchExpressions: refList(`${META}.LabelSelectorRequirement`, 'matchExpressions is a list of label selector requirements. The requirements are ANDed.', { 'x-kubernetes-list-type': 'atomic' }),
      matchLabels: strMap('matchLabels is a map of {key,value} pairs.'),
    }),
    'x-kubernetes-map-type': 'atomic',
  },
  [`${META}.LabelSelectorRequirement`]: obj(
    'A label selector requirement is a selector that contains values, a key, and an operator that relates the key and values.',
    {
      key: str('key is the label key that the selector applies to.', { default: '' }),
      operator: str("operator represents a key's relationship to a set of values. Valid operators are In, NotIn, Exists and DoesNotExist.", { default: '' }),
      values: strList('values is an array of string values.', { 'x-kubernetes-list-type': 'atomic' }),
    },
    ['key', 'operator'],
  ),
  [`${META}.Status`]: {
    ...obj('Status is a return value for calls that don\'t return other objects.', {
      ...kindFields(),
      code: int('Suggested HTTP return code for this status, 0 if not set.'),
      details: preserve('Extended data associated with the reason.'),
      message: str('A human-readable description of the status of this operation.'),
      metadata: ref(`${META}.ListMeta`, 'Standard list metadata.'),
      reason: str('A machine-readable description of why this operation is in the "Failure" status.'),
      status: str('Status of the operation. One of: "Success" or "Failure".'),
    }),
    ...gvk('', 'v1', 'Status'),
  },
  [`${META}.Patch`]: { description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.', type: 'object' },
  [`${META}.DeleteOptions`]: obj('DeleteOptions may be provided when deleting an API object.', {
    ...kindFields(),
    dryRun: strList('When present, indicates that modifications should not be persisted.', { 'x-kubernetes-list-type': 'atomic' }),
    gracePeriodSeconds: int64('The duration in seconds before the object should be deleted.'),
    propagationPolicy: str("Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'."),
  }),
};

// ---- core/v1 ----------------------------------------------------------------------------------
const containerProps = (): Record<string, Schema> => ({
  args: strList('Arguments to the entrypoint.', { 'x-kubernetes-list-type': 'atomic' }),
  command: strList('Entrypoint array. Not executed within a shell.', { 'x-kubernetes-list-type': 'atomic' }),
  env: mergeList(`${CORE}.EnvVar`, 'List of environment variables to set in the container. Cannot be updated.', 'name'),
  envFrom: refList(`${CORE}.EnvFromSource`, 'List of sources to populate environment variables in the container.', { 'x-kubernetes-list-type': 'atomic' }),
  image: str('Container image name. More info: https://kubernetes.io/docs/concepts/containers/images'),
  imagePullPolicy: str('Image pull policy. One of Always, Never, IfNotPresent.', { enum: ['Always', 'IfNotPresent', 'Never'] }),
  name: str('Name of the container specified as a DNS_LABEL. Each container in a pod must have a unique name (DNS_LABEL). Cannot be updated.', { default: '' }),
  ports: mergeList(`${CORE}.ContainerPort`, 'List of ports to expose from the container.', 'containerPort', ['containerPort', 'protocol']),
  resources: ref(`${CORE}.ResourceRequirements`, 'Compute Resources required by this container. Cannot be updated.'),
  securityContext: preserve('SecurityContext defines the security options the container should be run with.'),
  stdin: bool('Whether this container should allocate a buffer for stdin in the container runtime.'),
  tty: bool('Whether this container should allocate a TTY for itself, also requires \'stdin\' to be true.'),
  volumeMounts: mergeList(`${CORE}.VolumeMount`, "Pod volumes to mount into the container's filesystem. Cannot be updated.", 'mountPath', ['mountPath']),
  workingDir: str("Container's working directory."),
});

const coreSchemas: Record<string, Schema> = {
  [`${CORE}.Pod`]: kindObj('', 'v1', 'Pod', 'Pod is a collection of containers that can run on a host. This resource is created by clients and scheduled onto hosts.', {
    spec: ref(`${CORE}.PodSpec`, 'Specification of the desired behavior of the pod. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status'),
    status: ref(`${CORE}.PodStatus`, 'Most recently observed status of the pod. This data may not be up to date.'),
  }),
  [`${CORE}.PodList`]: listObj('', 'v1', 'PodList', `${CORE}.Pod`),
  [`${CORE}.PodSpec`]: obj(
    'PodSpec is a description of a pod.',
    {
      activeDeadlineSeconds: int64('Optional duration in seconds the pod may be active on the node relative to StartTime before the system will actively try to mark it failed and kill associated containers.'),
      affinity: preserve("If specified, the pod's scheduling constraints"),
      automountServiceAccountToken: bool('AutomountServiceAccountToken indicates whether a service account token should be automatically mounted.'),
      containers: mergeList(`${CORE}.Container`, 'List of containers belonging to the pod. Containers cannot currently be added or removed. There must be at least one container in a Pod. Cannot be updated.', 'name'),
      dnsPolicy: str("Set DNS policy for the pod. Defaults to \"ClusterFirst\".", { enum: ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'] }),
      hostNetwork: bool("Host networking requested for this pod. Use the host's network namespace."),
      imagePullSecrets: mergeList(`${CORE}.LocalObjectReference`, 'ImagePullSecrets is an optional list of references to secrets in the same namespace to use for pulling any of the images used by this PodSpec.', 'name'),
      initContainers: mergeList(`${CORE}.Container`, 'List of initialization containers belonging to the pod.', 'name'),
      nodeName: str('NodeName indicates in which node this pod is scheduled.'),
      nodeSelector: { ...strMap('NodeSelector is a selector which must be true for the pod to fit on a node.'), 'x-kubernetes-map-type': 'atomic' },
      priority: int('The priority value.'),
      restartPolicy: str('Restart policy for all containers within the pod. One of Always, OnFailure, Never.', { enum: ['Always', 'Never', 'OnFailure'] }),
      schedulerName: str('If specified, the pod will be dispatched by specified scheduler.'),
      securityContext: preserve('SecurityContext holds pod-level security attributes and common container settings.'),
      serviceAccountName: str('ServiceAccountName is the name of the ServiceAccount to use to run this pod.'),
      terminationGracePeriodSeconds: int64('Optional duration in seconds the pod needs to terminate gracefully.'),
      tolerations: refList(`${CORE}.Toleration`, "If specified, the pod's tolerations.", { 'x-kubernetes-list-type': 'atomic' }),
      volumes: mergeList(`${CORE}.Volume`, 'List of volumes that can be mounted by containers belonging to the pod.', 'name', ['name'], 'merge,retainKeys'),
    },
    ['containers'],
  ),
  [`${CORE}.Container`]: obj('A single application container that you want to run within a pod.', containerProps(), ['name']),
  [`${CORE}.ContainerPort`]: obj(
    'ContainerPort represents a network port in a single container.',
    {
      containerPort: int("Number of port to expose on the pod's IP address. This must be a valid port number, 0 < x < 65536."),
      hostIP: str('What host IP to bind the external port to.'),
      hostPort: int('Number of port to expose on the host.'),
      name: str('If specified, this must be an IANA_SVC_NAME and unique within the pod.'),
      protocol: str('Protocol for port. Must be UDP, TCP, or SCTP. Defaults to "TCP".', { default: 'TCP', enum: ['SCTP', 'TCP', 'UDP'] }),
    },
    ['containerPort'],
  ),
  [`${CORE}.EnvVar`]: obj(
    'EnvVar represents an environment variable present in a Container.',
    {
      name: str('Name of the environment variable. Must be a C_IDENTIFIER.', { default: '' }),
      value: str('Variable references $(VAR_NAME) are expanded using the previously defined environment variables in the container.'),
      valueFrom: preserve("Source for the environment variable's value. Cannot be used if value is not empty."),
    },
    ['name'],
  ),
  [`${CORE}.EnvFromSource`]: obj('EnvFromSource represents the source of a set of ConfigMaps or Secrets', {
    configMapRef: preserve('The ConfigMap to select from'),
    prefix: str('Optional text to prepend to the name of each environment variable.'),
    secretRef: preserve('The Secret to select from'),
  }),
  [`${CORE}.VolumeMount`]: obj(
    'VolumeMount describes a mounting of a Volume within a container.',
    {
      mountPath: str("Path within the container at which the volume should be mounted. Must not contain ':'.", { default: '' }),
      name: str('This must match the Name of a Volume.', { default: '' }),
      readOnly: bool('Mounted read-only if true, read-write otherwise (false or unspecified). Defaults to false.'),
      subPath: str("Path within the volume from which the container's volume should be mounted."),
    },
    ['name', 'mountPath'],
  ),
  [`${CORE}.Volume`]: obj(
    'Volume represents a named volume in a pod that may be accessed by any container in the pod.',
    {
      configMap: preserve('configMap represents a configMap that should populate this volume'),
      emptyDir: preserve('emptyDir represents a temporary directory that shares a pod\'s lifetime.'),
      hostPath: preserve('hostPath represents a pre-existing file or directory on the host machine that is directly exposed to the container.'),
      name: str("name of the volume. Must be a DNS_LABEL and unique within the pod.", { default: '' }),
      persistentVolumeClaim: preserve('persistentVolumeClaimVolumeSource represents a reference to a PersistentVolumeClaim in the same namespace.'),
      projected: preserve('projected items for all in one resources secrets, configmaps, and downward API'),
      secret: preserve('secret represents a secret that should populate this volume.'),
    },
    ['name'],
  ),
  [`${CORE}.ResourceRequirements`]: obj('ResourceRequirements describes the compute resource requirements.', {
    limits: { description: 'Limits describes the maximum amount of compute resources allowed.', type: 'object', additionalProperties: { 'x-kubernetes-int-or-string': true } },
    requests: { description: 'Requests describes the minimum amount of compute resources required.', type: 'object', additionalProperties: { 'x-kubernetes-int-or-string': true } },
  }),
  [`${CORE}.LocalObjectReference`]: {
    ...obj('LocalObjectReference contains enough information to let you locate the referenced object inside the same namespace.', {
      name: str('Name of the referent.', { default: '' }),
    }),
    'x-kubernetes-map-type': 'atomic',
  },
  [`${CORE}.Toleration`]: obj('The pod this Toleration is attached to tolerates any taint that matches the triple <key,value,effect> using the matching operator <operator>.', {
    effect: str('Effect indicates the taint effect to match.'),
    key: str('Key is the taint key that the toleration applies to.'),
    operator: str("Operator represents a key's relationship to the value."),
    tolerationSeconds: int64('TolerationSeconds represents the period of time the toleration tolerates the taint.'),
    value: str('Value is the taint value the toleration matches to.'),
  }),
  [`${CORE}.PodStatus`]: obj('PodStatus represents information about the status of a pod.', {
    conditions: mergeList(`${CORE}.PodCondition`, 'Current service state of pod.', 'type', ['type']),
    containerStatuses: refList(`${CORE}.ContainerStatus`, 'The list has one entry per container in the manifest.', { 'x-kubernetes-list-type': 'atomic' }),
    hostIP: str('hostIP holds the IP address of the host to which the pod is assigned.'),
    message: str('A human readable message indicating details about why the pod is in this condition.'),
    phase: str('The phase of a Pod is a simple, high-level summary of where the Pod is in its lifecycle.', { enum: ['Failed', 'Pending', 'Running', 'Succeeded', 'Unknown'] }),
    podIP: str('podIP address allocated to the pod.'),
    qosClass: str('The Quality of Service (QOS) classification assigned to the pod based on resource requirements.'),
    reason: str('A brief CamelCase message indicating details about why the pod is in this state.'),
    startTime: time('RFC 3339 date and time at which the object was acknowledged by the Kubelet.'),
  }),
  [`${CORE}.PodCondition`]: obj(
    'PodCondition contains details for the current condition of this pod.',
    {
      lastTransitionTime: time('Last time the condition transitioned from one status to another.'),
      message: str('Human-readable message indicating details about last transition.'),
      reason: str("Unique, one-word, CamelCase reason for the condition's last transition."),
      status: str('Status is the status of the condition. Can be True, False, Unknown.', { default: '' }),
      type: str('Type is the type of the condition.', { default: '' }),
    },
    ['type', 'status'],
  ),
  [`${CORE}.ContainerStatus`]: obj(
    'ContainerStatus contains details for the current status of this container.',
    {
      containerID: str("ContainerID is the ID of the container in the format '<type>://<container_id>'."),
      image: str('Image is the name of container image that the container is running.', { default: '' }),
      imageID: str("ImageID is the image ID of the container's image.", { default: '' }),
      name: str('Name is a DNS_LABEL representing the unique name of the container.', { default: '' }),
      ready: bool('Ready specifies whether the container is currently passing its readiness check.'),
      restartCount: int('RestartCount holds the number of times the container has been restarted.'),
      started: bool('Started indicates whether the container has finished its postStart lifecycle hook and passed its startup probe.'),
      state: preserve('State holds details about the container\'s current condition.'),
    },
    ['name', 'ready', 'restartCount', 'image', 'imageID'],
  ),
  [`${CORE}.PodTemplateSpec`]: obj('PodTemplateSpec describes the data a pod should have when created from a template', {
    metadata: metadataField(),
    spec: ref(`${CORE}.PodSpec`, 'Specification of the desired behavior of the pod.'),
  }),
  [`${CORE}.Service`]: kindObj('', 'v1', 'Service', 'Service is a named abstraction of software service (for example, mysql) consisting of local port (for example 3306) that the proxy listens on, and the selector that determines which pods will answer requests sent through the proxy.', {
    spec: ref(`${CORE}.ServiceSpec`, 'Spec defines the behavior of a service.'),
    status: preserve('Most recently observed status of the service.'),
  }),
  [`${CORE}.ServiceList`]: listObj('', 'v1', 'ServiceList', `${CORE}.Service`),
  [`${CORE}.ServiceSpec`]: obj('ServiceSpec describes the attributes that a user creates on a service.', {
    clusterIP: str('clusterIP is the IP address of the service and is usually assigned randomly.'),
    clusterIPs: strList('ClusterIPs is a list of IP addresses assigned to this service.', { 'x-kubernetes-list-type': 'atomic' }),
    externalIPs: strList('externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.', { 'x-kubernetes-list-type': 'atomic' }),
    ports: mergeList(`${CORE}.ServicePort`, 'The list of ports that are exposed by this service.', 'port', ['port', 'protocol']),
    selector: { ...strMap('Route service traffic to pods with label keys and values matching this selector.'), 'x-kubernetes-map-type': 'atomic' },
    sessionAffinity: str('Supports "ClientIP" and "None".', { enum: ['ClientIP', 'None'] }),
    type: str('type determines how the Service is exposed.', { enum: ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'] }),
  }),
  [`${CORE}.ServicePort`]: obj(
    "ServicePort contains information on service's port.",
    {
      name: str('The name of this port within the service.'),
      nodePort: int('The port on each node on which this service is exposed when type is NodePort or LoadBalancer.'),
      port: int('The port that will be exposed by this service.'),
      protocol: str('The IP protocol for this port. Supports "TCP", "UDP", and "SCTP". Default is TCP.', { default: 'TCP', enum: ['SCTP', 'TCP', 'UDP'] }),
      targetPort: { description: 'Number or name of the port to access on the pods targeted by the service.', 'x-kubernetes-int-or-string': true },
    },
    ['port'],
  ),
  [`${CORE}.ConfigMap`]: kindObj('', 'v1', 'ConfigMap', 'ConfigMap holds configuration data for pods to consume.', {
    binaryData: { description: 'BinaryData contains the binary data.', type: 'object', additionalProperties: { type: 'string', format: 'byte' } },
    data: strMap('Data contains the configuration data.'),
    immutable: bool('Immutable, if set to true, ensures that data stored in the ConfigMap cannot be updated (only object metadata can be modified).'),
  }),
  [`${CORE}.ConfigMapList`]: listObj('', 'v1', 'ConfigMapList', `${CORE}.ConfigMap`),
  [`${CORE}.Secret`]: kindObj('', 'v1', 'Secret', 'Secret holds secret data of a certain type. The total bytes of the values in the Data field must be less than MaxSecretSize bytes.', {
    data: { description: 'Data contains the secret data. Each key must consist of alphanumeric characters, \'-\', \'_\' or \'.\'. The serialized form of the secret data is a base64 encoded string.', type: 'object', additionalProperties: { type: 'string', format: 'byte' } },
    immutable: bool('Immutable, if set to true, ensures that data stored in the Secret cannot be updated (only object metadata can be modified).'),
    stringData: strMap('stringData allows specifying non-binary secret data in string form. It is provided as a write-only input field for convenience.'),
    type: str('Used to facilitate programmatic handling of secret data.'),
  }),
  [`${CORE}.SecretList`]: listObj('', 'v1', 'SecretList', `${CORE}.Secret`),
  [`${CORE}.ServiceAccount`]: kindObj('', 'v1', 'ServiceAccount', 'ServiceAccount binds together: * a name, understood by users, and perhaps by peripheral systems, for an identity * a principal that can be authenticated and authorized * a set of secrets', {
    automountServiceAccountToken: bool('AutomountServiceAccountToken indicates whether pods running as this service account should have an API token automatically mounted.'),
    imagePullSecrets: refList(`${CORE}.LocalObjectReference`, 'ImagePullSecrets is a list of references to secrets in the same namespace to use for pulling any images in pods that reference this ServiceAccount.', { 'x-kubernetes-list-type': 'atomic' }),
    secrets: mergeList(`${CORE}.ObjectReference`, 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.', 'name', ['name']),
  }),
  [`${CORE}.ServiceAccountList`]: listObj('', 'v1', 'ServiceAccountList', `${CORE}.ServiceAccount`),
  [`${CORE}.ObjectReference`]: {
    ...obj('ObjectReference contains enough information to let you inspect or modify the referred object.', {
      apiVersion: str('API version of the referent.'),
      fieldPath: str('If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.'),
      kind: str('Kind of the referent.'),
      name: str('Name of the referent.'),
      namespace: str('Namespace of the referent.'),
      resourceVersion: str('Specific resourceVersion to which this reference is made, if any.'),
      uid: str('UID of the referent.'),
    }),
    'x-kubernetes-map-type': 'atomic',
  },
  [`${CORE}.Namespace`]: kindObj('', 'v1', 'Namespace', 'Namespace provides a scope for Names. Use of multiple namespaces is optional.', {
    spec: obj('NamespaceSpec describes the attributes on a Namespace.', {
      finalizers: strList('Finalizers is an opaque list of values that must be empty to permanently remove object from storage.', { 'x-kubernetes-list-type': 'atomic' }),
    }),
    status: obj('NamespaceStatus is information about the current status of a Namespace.', {
      phase: str('Phase is the current lifecycle phase of the namespace.', { enum: ['Active', 'Terminating'] }),
    }),
  }),
  [`${CORE}.NamespaceList`]: listObj('', 'v1', 'NamespaceList', `${CORE}.Namespace`),
  [`${CORE}.Event`]: kindObj(
    '',
    'v1',
    'Event',
    'Event is a report of an event somewhere in the cluster.',
    {
      count: int('The number of times this event has occurred.'),
      firstTimestamp: time('The time at which the event was first recorded.'),
      involvedObject: ref(`${CORE}.ObjectReference`, 'The object that this event is about.'),
      lastTimestamp: time('The time at which the most recent occurrence of this event was recorded.'),
      message: str('A human-readable description of the status of this operation.'),
      reason: str("This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
      source: preserve('The component reporting this event.'),
      type: str('Type of this event (Normal, Warning), new types could be added in the future'),
    },
    ['metadata', 'involvedObject'],
  ),
  [`${CORE}.EventList`]: listObj('', 'v1', 'EventList', `${CORE}.Event`),
};

// ---- apps/v1 ----------------------------------------------------------------------------------
const appsSchemas: Record<string, Schema> = {
  [`${APPS}.Deployment`]: kindObj('apps', 'v1', 'Deployment', 'Deployment enables declarative updates for Pods and ReplicaSets.', {
    spec: ref(`${APPS}.DeploymentSpec`, 'Specification of the desired behavior of the Deployment.'),
    status: ref(`${APPS}.DeploymentStatus`, 'Most recently observed status of the Deployment.'),
  }),
  [`${APPS}.DeploymentList`]: listObj('apps', 'v1', 'DeploymentList', `${APPS}.Deployment`),
  [`${APPS}.DeploymentSpec`]: obj(
    'DeploymentSpec is the specification of the desired behavior of the Deployment.',
    {
      minReadySeconds: int('Minimum number of seconds for which a newly created pod should be ready without any of its container crashing, for it to be considered available.'),
      paused: bool('Indicates that the deployment is paused.'),
      progressDeadlineSeconds: int('The maximum time in seconds for a deployment to make progress before it is considered to be failed.'),
      replicas: int('Number of desired pods. This is a pointer to distinguish between explicit zero and not specified. Defaults to 1.'),
      revisionHistoryLimit: int('The number of old ReplicaSets to retain to allow rollback.'),
      selector: ref(`${META}.LabelSelector`, 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.'),
      strategy: {
        ...ref(`${APPS}.DeploymentStrategy`, 'The deployment strategy to use to replace existing pods with new ones.'),
        'x-kubernetes-patch-strategy': 'retainKeys',
      },
      template: ref(`${CORE}.PodTemplateSpec`, 'Template describes the pods that will be created.'),
    },
    ['selector', 'template'],
  ),
  [`${APPS}.DeploymentStrategy`]: obj('DeploymentStrategy describes how to replace existing pods with new ones.', {
    rollingUpdate: preserve('Rolling update config params. Present only if DeploymentStrategyType = RollingUpdate.'),
    type: str('Type of deployment. Can be "Recreate" or "RollingUpdate". Default is RollingUpdate.', { enum: ['Recreate', 'RollingUpdate'] }),
  }),
  [`${APPS}.DeploymentStatus`]: obj('DeploymentStatus is the most recently observed status of the Deployment.', {
    availableReplicas: int('Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
    conditions: mergeList(`${APPS}.DeploymentCondition`, "Represents the latest available observations of a deployment's current state.", 'type', ['type']),
    observedGeneration: int64('The generation observed by the deployment controller.'),
    readyReplicas: int('readyReplicas is the number of pods targeted by this Deployment with a Ready Condition.'),
    replicas: int('Total number of non-terminated pods targeted by this deployment (their labels match the selector).'),
    unavailableReplicas: int('Total number of unavailable pods targeted by this deployment.'),
    updatedReplicas: int('Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
  }),
  [`${APPS}.DeploymentCondition`]: obj(
    'DeploymentCondition describes the state of a deployment at a certain point.',
    {
      lastTransitionTime: time('Last time the condition transitioned from one status to another.'),
      lastUpdateTime: time('The last time this condition was updated.'),
      message: str('A human readable message indicating details about the transition.'),
      reason: str("The reason for the condition's last transition."),
      status: str('Status of the condition, one of True, False, Unknown.', { default: '' }),
      type: str('Type of deployment condition.', { default: '' }),
    },
    ['type', 'status'],
  ),
};

// ---- rbac.authorization.k8s.io/v1 -------------------------------------------------------------
const policyRule = obj(
  'PolicyRule holds information that describes a policy rule, but does not contain information about who the rule applies to or which namespace the rule applies to.',
  {
    apiGroups: strList('APIGroups is the name of the APIGroup that contains the resources.', { 'x-kubernetes-list-type': 'atomic' }),
    nonResourceURLs: strList('NonResourceURLs is a set of partial urls that a user should have access to.', { 'x-kubernetes-list-type': 'atomic' }),
    resourceNames: strList('ResourceNames is an optional white list of names that the rule applies to.', { 'x-kubernetes-list-type': 'atomic' }),
    resources: strList('Resources is a list of resources this rule applies to.', { 'x-kubernetes-list-type': 'atomic' }),
    verbs: strList('Verbs is a list of Verbs that apply to ALL the ResourceKinds contained in this rule.', { 'x-kubernetes-list-type': 'atomic' }),
  },
  ['verbs'],
);
const rbacSchemas: Record<string, Schema> = {
  [`${RBAC}.PolicyRule`]: policyRule,
  [`${RBAC}.Subject`]: {
    ...obj(
      'Subject contains a reference to the object or user identities a role binding applies to.',
      {
        apiGroup: str('APIGroup holds the API group of the referenced subject.'),
        kind: str('Kind of object being referenced. Values defined by this API group are "User", "Group", and "ServiceAccount".', { default: '' }),
        name: str('Name of the object being referenced.', { default: '' }),
        namespace: str('Namespace of the referenced object.'),
      },
      ['kind', 'name'],
    ),
    'x-kubernetes-map-type': 'atomic',
  },
  [`${RBAC}.RoleRef`]: {
    ...obj(
      'RoleRef contains information that points to the role being used',
      {
        apiGroup: str('APIGroup is the group for the resource being referenced', { default: '' }),
        kind: str('Kind is the type of resource being referenced', { default: '' }),
        name: str('Name is the name of resource being referenced', { default: '' }),
      },
      ['apiGroup', 'kind', 'name'],
    ),
    'x-kubernetes-map-type': 'atomic',
  },
};
for (const kind of ['Role', 'ClusterRole']) {
  rbacSchemas[`${RBAC}.${kind}`] = kindObj('rbac.authorization.k8s.io', 'v1', kind, `${kind} is a logical grouping of PolicyRules that can be referenced as a unit by a ${kind}Binding.`, {
    rules: refList(`${RBAC}.PolicyRule`, `Rules holds all the PolicyRules for this ${kind}`, { 'x-kubernetes-list-type': 'atomic' }),
    ...(kind === 'ClusterRole' ? { aggregationRule: preserve('AggregationRule is an optional field that describes how to build the Rules for this ClusterRole.') } : {}),
  });
  rbacSchemas[`${RBAC}.${kind}List`] = listObj('rbac.authorization.k8s.io', 'v1', `${kind}List`, `${RBAC}.${kind}`);
  rbacSchemas[`${RBAC}.${kind}Binding`] = kindObj(
    'rbac.authorization.k8s.io',
    'v1',
    `${kind}Binding`,
    `${kind}Binding references a role, but does not contain it.`,
    {
      roleRef: ref(`${RBAC}.RoleRef`, 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.'),
      subjects: refList(`${RBAC}.Subject`, 'Subjects holds references to the objects the role applies to.', { 'x-kubernetes-list-type': 'atomic' }),
    },
    ['roleRef'],
  );
  rbacSchemas[`${RBAC}.${kind}BindingList`] = listObj('rbac.authorization.k8s.io', 'v1', `${kind}BindingList`, `${RBAC}.${kind}Binding`);
}

// ---- authorization / authentication reviews ---------------------------------------------------
const reviewSchemas: Record<string, Schema> = {
  [`${AUTHZ}.ResourceAttributes`]: obj('ResourceAttributes includes the authorization attributes available for resource requests to the Authorizer interface', {
    group: str('Group is the API Group of the Resource.  "*" means all.'),
    name: str('Name is the name of the resource being requested for a "get" or deleted for a "delete". "" (empty) means all.'),
    namespace: str('Namespace is the namespace of the action being requested.'),
    resource: str('Resource is one of the existing resource types.  "*" means all.'),
    subresource: str('Subresource is one of the existing resource types.  "" means none.'),
    verb: str('Verb is a kubernetes resource API verb, like: get, list, watch, create, update, delete, proxy.  "*" means all.'),
    version: str('Version is the API Version of the Resource.  "*" means all.'),
  }),
  [`${AUTHZ}.NonResourceAttributes`]: obj('NonResourceAttributes includes the authorization attributes available for non-resource requests to the Authorizer interface', {
    path: str('Path is the URL path of the request'),
    verb: str('Verb is the standard HTTP verb'),
  }),
  [`${AUTHZ}.SubjectAccessReviewStatus`]: obj(
    'SubjectAccessReviewStatus',
    {
      allowed: bool('Allowed is required. True if the action would be allowed, false otherwise.'),
      denied: bool('Denied is optional. True if the action would be denied, otherwise false.'),
      evaluationError: str('EvaluationError is an indication that some error occurred during the authorization check.'),
      reason: str('Reason is optional.  It indicates why a request was allowed or denied.'),
    },
    ['allowed'],
  ),
  [`${AUTHZ}.SelfSubjectAccessReview`]: kindObj(
    'authorization.k8s.io',
    'v1',
    'SelfSubjectAccessReview',
    'SelfSubjectAccessReview checks whether or the current user can perform an action.',
    {
      spec: ref(`${AUTHZ}.SelfSubjectAccessReviewSpec`, 'Spec holds information about the request being evaluated.  user and groups must be empty'),
      status: ref(`${AUTHZ}.SubjectAccessReviewStatus`, 'Status is filled in by the server and indicates whether the request is allowed or not'),
    },
    ['spec'],
  ),
  [`${AUTHZ}.SelfSubjectAccessReviewSpec`]: obj('SelfSubjectAccessReviewSpec is a description of the access request.  Exactly one of ResourceAuthorizationAttributes and NonResourceAuthorizationAttributes must be set', {
    nonResourceAttributes: ref(`${AUTHZ}.NonResourceAttributes`, 'NonResourceAttributes describes information for a non-resource access request'),
    resourceAttributes: ref(`${AUTHZ}.ResourceAttributes`, 'ResourceAuthorizationAttributes describes information for a resource access request'),
  }),
  [`${AUTHZ}.SelfSubjectRulesReview`]: kindObj(
    'authorization.k8s.io',
    'v1',
    'SelfSubjectRulesReview',
    'SelfSubjectRulesReview enumerates the set of actions the current user can perform within a namespace.',
    {
      spec: obj('SelfSubjectRulesReviewSpec defines the specification for SelfSubjectRulesReview.', { namespace: str('Namespace to evaluate rules for. Required.') }),
      status: preserve('Status is filled in by the server and indicates the set of actions a user can perform.'),
    },
    ['spec'],
  ),
  [`${AUTHN}.UserInfo`]: obj('UserInfo holds the information about the user needed to implement the user.Info interface.', {
    extra: { description: 'Any additional information provided by the authenticator.', type: 'object', additionalProperties: { type: 'array', items: { type: 'string', default: '' } } },
    groups: strList('The names of groups this user is a part of.', { 'x-kubernetes-list-type': 'atomic' }),
    uid: str('A unique value that identifies this user across time.'),
    username: str('The name that uniquely identifies this user among all active users.'),
  }),
  [`${AUTHN}.SelfSubjectReview`]: kindObj('authentication.k8s.io', 'v1', 'SelfSubjectReview', 'SelfSubjectReview contains the user information that the kube-apiserver has about the user making this request.', {
    status: obj('SelfSubjectReviewStatus is filled by the kube-apiserver and sent back to a user.', {
      userInfo: ref(`${AUTHN}.UserInfo`, 'User attributes of the user making this request.'),
    }),
  }),
  'io.k8s.api.authentication.v1beta1.SelfSubjectReview': kindObj('authentication.k8s.io', 'v1beta1', 'SelfSubjectReview', 'SelfSubjectReview contains the user information that the kube-apiserver has about the user making this request.', {
    status: obj('SelfSubjectReviewStatus is filled by the kube-apiserver and sent back to a user.', {
      userInfo: ref(`${AUTHN}.UserInfo`, 'User attributes of the user making this request.'),
    }),
  }),
  [`${AUTHN}.TokenRequest`]: kindObj(
    'authentication.k8s.io',
    'v1',
    'TokenRequest',
    'TokenRequest requests a token for a given service account.',
    {
      spec: obj(
        'TokenRequestSpec contains client provided parameters of a token request.',
        {
          audiences: strList('Audiences are the intendend audiences of the token.', { 'x-kubernetes-list-type': 'atomic' }),
          boundObjectRef: preserve('BoundObjectRef is a reference to an object that the token will be bound to.'),
          expirationSeconds: int64('ExpirationSeconds is the requested duration of validity of the request.'),
        },
        ['audiences'],
      ),
      status: obj('TokenRequestStatus is the result of a token request.', {
        expirationTimestamp: time('ExpirationTimestamp is the time of expiration of the returned token.'),
        token: str('Token is the opaque bearer token.', { default: '' }),
      }),
    },
    ['spec'],
  ),
  [`${APIEXT}.CustomResourceDefinition`]: kindObj(
    'apiextensions.k8s.io',
    'v1',
    'CustomResourceDefinition',
    'CustomResourceDefinition represents a resource that should be exposed on the API server.  Its name MUST be in the format <.spec.name>.<.spec.group>.',
    {
      spec: preserve('spec describes how the user wants the resources to appear'),
      status: preserve('status indicates the actual state of the CustomResourceDefinition'),
    },
    ['spec'],
  ),
  [`${APIEXT}.CustomResourceDefinitionList`]: listObj('apiextensions.k8s.io', 'v1', 'CustomResourceDefinitionList', `${APIEXT}.CustomResourceDefinition`),
};

// ---- the one custom resource (its CRD's structural schema) ------------------------------------
const widget = schemaName('demo.sluice.dev', 'v1', 'Widget');
const crdSchemas: Record<string, Schema> = {
  [widget]: kindObj('demo.sluice.dev', 'v1', 'Widget', 'Widget is the demo custom resource of the Sluice demo world.', {
    spec: obj('WidgetSpec is the desired state of a widget.', {
      color: str('Colour of the widget.'),
      size: int64('Desired size of the widget.'),
    }),
    status: obj('WidgetStatus is the observed state of a widget.', {
      phase: str('Phase of the widget.'),
    }),
  }),
  [`${widget}List`]: listObj('demo.sluice.dev', 'v1', 'WidgetList', widget),
};

/** Every component schema the emulator knows, by name. */
export const SCHEMAS: Readonly<Record<string, Schema>> = {
  ...metaSchemas,
  ...coreSchemas,
  ...appsSchemas,
  ...rbacSchemas,
  ...reviewSchemas,
  ...crdSchemas,
};

/** The component schema name of a kind, or undefined when the emulator has no schema for it. */
export function schemaFor(def: Pick<ResourceDef, 'group' | 'version' | 'kind'>): string | undefined {
  const name = schemaName(def.group, def.version, def.kind);
  return SCHEMAS[name] ? name : undefined;
}

/** Names of all schemas reachable from `roots` through $ref. */
export function closure(roots: string[]): string[] {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const name = stack.pop() as string;
    if (seen.has(name) || !SCHEMAS[name]) continue;
    seen.add(name);
    const text = JSON.stringify(SCHEMAS[name]);
    for (const m of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) if (m[1]) stack.push(m[1]);
  }
  return [...seen].sort();
}

/** Kinds in RESOURCES without a hand-written schema get no schema; listed for the unit test. */
export function kindsWithoutSchema(): string[] {
  return RESOURCES.filter((r) => !schemaFor(r)).map((r) => `${r.group}/${r.version}/${r.kind}`);
}
