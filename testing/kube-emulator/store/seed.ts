/**
 * The 'demo' cluster the emulator starts with: namespaces, Deployments with running pods (as
 * the deployment controller and kubelet would have made them), Services, ConfigMaps, Secrets,
 * ServiceAccounts, Events, RBAC, a CRD and custom resources. Every credential-looking value is
 * obviously fake (contains "fake" or "demo"): they exist so masking can be demonstrated.
 */
import { findResource } from '../resources.ts';
import type { ResourceDef } from '../resources.ts';
import type { KubeObject } from '../types.ts';
import { nextPodIP, runningPodStatus, templateHash } from './controllers.ts';
import type { ObjectStore } from './object-store.ts';
import { randomSuffix } from './object-store.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

export const FAKE = {
  databaseUrl: 'postgres://app:fake-password@db:5432/app',
  awsAccessKeyId: 'AKIAFAKEFAKEFAKEFAKE',
  awsSecretAccessKey: 'fake/Secret+Access+Key/demo0000000000000000',
  bearerToken: 'fake-demo-bearer-token-0123456789abcdef',
  serviceAccountToken:
    'eyJhbGciOiJSUzI1NiIsImtpZCI6ImZha2UtZGVtbyJ9.eyJpc3MiOiJmYWtlLWRlbW8iLCJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVtbzpkZWZhdWx0In0.fake-demo-signature',
  dbUser: 'app',
  dbPassword: 'fake-password',
} as const;

function d(group: string, version: string, resource: string): ResourceDef {
  const r = findResource(group, version, resource);
  if (!r) throw new Error(`${resource} missing from the registry`);
  return r;
}

interface ContainerSpec { [k: string]: unknown; name: string; image: string; env?: { name: string; value: string }[]; ports?: { containerPort: number; protocol: string; name?: string }[] }

function container(name: string, image: string, port: number, env: { name: string; value: string }[]): ContainerSpec & Record<string, unknown> {
  return {
    name,
    image,
    ports: [{ containerPort: port, protocol: 'TCP', name: 'http' }],
    env,
    resources: {},
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
  };
}

function podSpecDefaults(containers: (ContainerSpec & Record<string, unknown>)[]): { containers: ContainerSpec[]; [k: string]: unknown } {
  return {
    containers,
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    serviceAccountName: 'default',
    serviceAccount: 'default',
    securityContext: {},
    schedulerName: 'default-scheduler',
  };
}

export function seedDemo(store: ObjectStore): void {
  const ns = d('', 'v1', 'namespaces');
  const pods = d('', 'v1', 'pods');
  const svcs = d('', 'v1', 'services');
  const cms = d('', 'v1', 'configmaps');
  const secrets = d('', 'v1', 'secrets');
  const sas = d('', 'v1', 'serviceaccounts');
  const events = d('', 'v1', 'events');
  const deploys = d('apps', 'v1', 'deployments');
  const crds = d('apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
  const widgets = d('demo.sluice.dev', 'v1', 'widgets');
  const clusterroles = d('rbac.authorization.k8s.io', 'v1', 'clusterroles');
  const crbs = d('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings');
  const roles = d('rbac.authorization.k8s.io', 'v1', 'roles');
  const rbs = d('rbac.authorization.k8s.io', 'v1', 'rolebindings');
  const put = (def: ResourceDef, o: { metadata: KubeObject['metadata']; [k: string]: unknown }) =>
    store.create(def, { apiVersion: def.group ? `${def.group}/${def.version}` : def.version, kind: def.kind, ...o });
  const ts = () => store.now().toISOString().replace(/\.\d{3}Z$/, 'Z');

  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease', 'dev', 'prod']) {
    put(ns, { metadata: { name } });
    put(sas, { metadata: { name: 'default', namespace: name } });
  }

  const addEvents = (pod: KubeObject, image: string) => {
    const n = pod.metadata.namespace ?? '';
    const pn = pod.metadata.name ?? '';
    const involved = { kind: 'Pod', namespace: n, name: pn, uid: pod.metadata.uid, apiVersion: 'v1', resourceVersion: pod.metadata.resourceVersion };
    const list: [string, string, string, string][] = [
      ['Scheduled', 'Normal', 'default-scheduler', `Successfully assigned ${n}/${pn} to sluice-demo-node`],
      ['Pulled', 'Normal', 'kubelet', `Container image "${image}" already present on machine`],
      ['Created', 'Normal', 'kubelet', `Created container ${String(((pod.spec as { containers: { name: string }[] }).containers[0] ?? { name: '' }).name)}`],
      ['Started', 'Normal', 'kubelet', `Started container ${String(((pod.spec as { containers: { name: string }[] }).containers[0] ?? { name: '' }).name)}`],
    ];
    for (const [reason, type, component, message] of list) {
      const t = ts();
      put(events, {
        metadata: { name: `${pn}.${randomSuffix(8)}${randomSuffix(8)}`, namespace: n },
        involvedObject: reason === 'Scheduled' ? involved : { ...involved, fieldPath: 'spec.containers{' + String(((pod.spec as { containers: { name: string }[] }).containers[0] ?? { name: '' }).name) + '}' },
        reason,
        message,
        source: component === 'kubelet' ? { component, host: 'sluice-demo-node' } : { component },
        firstTimestamp: t,
        lastTimestamp: t,
        count: 1,
        type,
        eventTime: null,
        reportingComponent: component,
        reportingInstance: component === 'kubelet' ? 'sluice-demo-node' : '',
      });
    }
  };

  const deployment = (namespace: string, name: string, replicas: number, image: string, port: number, env: { name: string; value: string }[]) => {
    const labels = { app: name };
    const template = { metadata: { labels }, spec: podSpecDefaults([container(name, image, port, env)]) };
    const dep = put(deploys, {
      metadata: { name, namespace, labels, annotations: { 'deployment.kubernetes.io/revision': '1' } },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
      },
    });
    const hash = templateHash(template);
    const rsName = `${name}-${hash}`;
    for (let i = 0; i < replicas; i++) {
      const spec = { ...template.spec, nodeName: 'sluice-demo-node' };
      const pod = put(pods, {
        metadata: {
          name: `${rsName}-${randomSuffix()}`,
          generateName: `${rsName}-`,
          namespace,
          labels: { ...labels, 'pod-template-hash': hash },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: dep.metadata.uid, controller: true, blockOwnerDeletion: true }],
        },
        spec,
        status: runningPodStatus(spec, ts(), nextPodIP()),
      });
      addEvents(pod, image);
    }
    const t = ts();
    const upd = { ...dep, status: {
      observedGeneration: 1, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas,
      conditions: [
        { type: 'Available', status: 'True', lastUpdateTime: t, lastTransitionTime: t, reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' },
        { type: 'Progressing', status: 'True', lastUpdateTime: t, lastTransitionTime: t, reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` },
      ],
    } };
    store.update(deploys, upd);
  };

  let clusterIP = 20;
  const service = (namespace: string, name: string, port: number) => {
    const ip = `10.96.${clusterIP >> 8}.${clusterIP++ & 255}`;
    put(svcs, {
      metadata: { name, namespace, labels: { app: name } },
      spec: {
        type: 'ClusterIP', selector: { app: name }, clusterIP: ip, clusterIPs: [ip], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack',
        ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: port }], sessionAffinity: 'None', internalTrafficPolicy: 'Cluster',
      },
      status: { loadBalancer: {} },
    });
  };

  put(svcs, {
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }], sessionAffinity: 'None' },
    status: { loadBalancer: {} },
  });

  for (const env of ['dev', 'prod']) {
    const appEnv = [
      { name: 'APP_ENV', value: env },
      { name: 'DATABASE_URL', value: FAKE.databaseUrl },
      { name: 'AWS_ACCESS_KEY_ID', value: FAKE.awsAccessKeyId },
      { name: 'AWS_SECRET_ACCESS_KEY', value: FAKE.awsSecretAccessKey },
    ];
    deployment(env, 'web', 2, 'nginx:1.27', 8080, [{ name: 'APP_ENV', value: env }, { name: 'API_URL', value: 'http://api' }]);
    deployment(env, 'api', 1, 'ghcr.io/sluice-demo/api:1.4.2', 8000, appEnv);
    const dbSpec = { ...podSpecDefaults([container('postgres', 'postgres:16', 5432, [
      { name: 'POSTGRES_USER', value: FAKE.dbUser }, { name: 'POSTGRES_PASSWORD', value: FAKE.dbPassword },
    ])]), nodeName: 'sluice-demo-node', hostname: 'db-0', subdomain: 'db' };
    const db = put(pods, {
      metadata: { name: 'db-0', namespace: env, labels: { app: 'db', 'statefulset.kubernetes.io/pod-name': 'db-0' } },
      spec: dbSpec,
      status: runningPodStatus(dbSpec, ts(), nextPodIP()),
    });
    addEvents(db, 'postgres:16');
    service(env, 'web', 8080);
    service(env, 'api', 8000);
    put(cms, {
      metadata: { name: 'app-config', namespace: env, labels: { app: 'api' } },
      data: {
        LOG_LEVEL: env === 'prod' ? 'info' : 'debug',
        FEATURE_FLAGS: 'new-ui,fast-checkout',
        'upstream.yaml': `url: https://payments.demo.invalid/v1\nheaders:\n  Authorization: Bearer ${FAKE.bearerToken}\n`,
      },
    });
    put(cms, {
      metadata: { name: 'kube-root-ca.crt', namespace: env, annotations: { 'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.' } },
      data: { 'ca.crt': '-----BEGIN CERTIFICATE-----\nZmFrZS1kZW1vLWNh\n-----END CERTIFICATE-----\n' },
    });
    put(secrets, {
      metadata: { name: 'db-credentials', namespace: env, labels: { app: 'db' } },
      type: 'Opaque',
      data: { username: b64(FAKE.dbUser), password: b64(FAKE.dbPassword), url: b64(FAKE.databaseUrl) },
    });
    put(secrets, {
      metadata: { name: 'default-token-fake1', namespace: env, annotations: { 'kubernetes.io/service-account.name': 'default', 'kubernetes.io/service-account.uid': 'fake-demo-uid' } },
      type: 'kubernetes.io/service-account-token',
      data: { token: b64(FAKE.serviceAccountToken), namespace: b64(env), 'ca.crt': b64('-----BEGIN CERTIFICATE-----\nZmFrZS1kZW1vLWNh\n-----END CERTIFICATE-----\n') },
    });
    put(roles, {
      metadata: { name: 'app-reader', namespace: env },
      rules: [{ apiGroups: [''], resources: ['pods', 'pods/log', 'configmaps'], verbs: ['get', 'list', 'watch'] }],
    });
    put(rbs, {
      metadata: { name: 'app-reader', namespace: env },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'app-reader' },
      subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: `${env}-developers` }],
    });
  }

  deployment('kube-system', 'coredns', 1, 'registry.k8s.io/coredns/coredns:v1.11.3', 53, []);
  service('kube-system', 'kube-dns', 53);
  put(secrets, {
    metadata: { name: 'bootstrap-token-fake01', namespace: 'kube-system' },
    type: 'bootstrap.kubernetes.io/token',
    data: { 'token-id': b64('fake01'), 'token-secret': b64('fakedemosecret00'), 'usage-bootstrap-authentication': b64('true') },
  });

  put(clusterroles, { metadata: { name: 'cluster-admin', labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { nonResourceURLs: ['*'], verbs: ['*'] }] });
  put(clusterroles, { metadata: { name: 'view', labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } }, rules: [{ apiGroups: ['', 'apps'], resources: ['pods', 'services', 'configmaps', 'deployments'], verbs: ['get', 'list', 'watch'] }] });
  put(crbs, {
    metadata: { name: 'cluster-admin', labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:masters' }],
  });

  put(crds, {
    metadata: { name: 'widgets.demo.sluice.dev' },
    spec: {
      group: 'demo.sluice.dev',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList', shortNames: ['wg'], categories: ['all'] },
      scope: 'Namespaced',
      versions: [{
        name: 'v1', served: true, storage: true,
        schema: { openAPIV3Schema: { type: 'object', properties: {
          apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' },
          spec: { type: 'object', properties: { size: { type: 'integer' }, color: { type: 'string' } } },
          status: { type: 'object', properties: { phase: { type: 'string' } } },
        } } },
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'Size', type: 'integer', jsonPath: '.spec.size' },
          { name: 'Color', type: 'string', jsonPath: '.spec.color', priority: 1 },
        ],
      }],
      conversion: { strategy: 'None' },
    },
    status: {
      acceptedNames: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList', shortNames: ['wg'], categories: ['all'] },
      storedVersions: ['v1'],
      conditions: [{ type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: ts() }],
    },
  });
  put(widgets, { metadata: { name: 'small', namespace: 'dev' }, spec: { size: 1, color: 'blue' }, status: { phase: 'Ready' } });
  put(widgets, { metadata: { name: 'large', namespace: 'dev' }, spec: { size: 10, color: 'red' }, status: { phase: 'Ready' } });
}
