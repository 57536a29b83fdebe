/**
 * The one configuration schema of Sluice. Every option is documented here, where it is defined
 * (`.describe()`), and `docs/config.md` is generated from it (`sluice config docs`); a test
 * checks that every option has a description and that the document is current.
 * Defaults live here too, so an empty file is a valid configuration.
 */
import { SLUICE_CONNECTION } from '../core/audit-read.ts';
import { DURATION_PATTERN } from '../core/duration.ts';
import { z } from 'zod';
import { IssuersSchema } from '../authn/issuer-config.ts';

const port = z.number().int().min(0).max(65535);

export const LogSchema = z
  .object({
    level: z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
      .default('info')
      .describe('Minimum level of log lines written to standard error. Environment variable SLUICE_LOG_LEVEL overrides it.'),
    format: z
      .enum(['json', 'pretty'])
      .default('json')
      .describe('`json`: one JSON object per line (pino), for log shippers. `pretty`: short human-readable lines for a terminal.'),
  })
  .strict()
  .describe('Structured logging.');

export const DemoSchema = z
  .object({
    dir: z
      .string()
      .default('.sluice/demo')
      .describe('Folder the demo world writes its kubeconfigs, CA certificate and state file into, relative to the working directory. Emptied at each start.'),
    host: z
      .string()
      .default('127.0.0.1')
      .describe('Address every demo listener binds to. Keep it on loopback: the demo identities are public knowledge.'),
    identityProviderPort: port.default(0).describe('Port of the demo OIDC identity provider; 0 picks a free port.'),
    kubernetesPort: port.default(0).describe('Port of the demo Kubernetes API emulator (behind the gateway); 0 picks a free port.'),
    gatewayPort: port.default(0).describe('Port of the demo Sluice gateway, which the demo kubeconfigs point at; 0 picks a free port.'),
  })
  .strict()
  .describe('The demo world started by `sluice demo`: a real OIDC provider with demo users, a seeded Kubernetes API emulator, and the Sluice gateway in front of it with the demo policy.');

export const EmulatorSchema = z
  .object({
    host: z.string().default('127.0.0.1').describe('Address the emulator listens on (`sluice dev emulator`).'),
    port: port.default(0).describe('Port the emulator listens on; 0 picks a free port.'),
    seed: z
      .enum(['demo', 'empty'])
      .default('demo')
      .describe('`demo`: namespaces dev, prod and kube-system with deployments, pods, services, configmaps and secrets with fake values. `empty`: only the default namespaces.'),
    kubeconfig: z
      .string()
      .optional()
      .describe('If set, write an admin kubeconfig for the emulator to this path at start.'),
  })
  .strict()
  .describe('The Kubernetes API emulator for development and tests (`sluice dev emulator`). Not a production component.');


export const TlsSchema = z
  .object({
    mode: z
      .enum(['dev', 'files'])
      .default('dev')
      .describe('`dev`: generate a CA and a loopback certificate at start and write the CA to `tls.caOut` (development only; a warning is logged). `files`: serve `tls.certFile`/`tls.keyFile`.'),
    certFile: z.string().optional().describe('PEM certificate chain of the listeners (mode `files`).'),
    keyFile: z.string().optional().describe('PEM private key of the listeners (mode `files`).'),
    caOut: z
      .string()
      .optional()
      .describe('Mode `dev`: write the generated CA certificate to this file, for kubeconfigs (`certificate-authority`).'),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.mode === 'files' && (!t.certFile || !t.keyFile)) ctx.addIssue({ code: 'custom', message: 'tls.mode "files" needs certFile and keyFile' });
  })
  .describe('TLS of the gateway listeners.');

export const ServerSchema = z
  .object({
    host: z.string().default('127.0.0.1').describe('Address the Kubernetes API listener binds to. Use 0.0.0.0 to serve other machines.'),
    port: port.default(6443).describe('Port of the Kubernetes API listener; 0 picks a free port.'),
    tls: TlsSchema.default(TlsSchema.parse({})),
    maxRequestBodyBytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * 2 ** 20)
      .default(3 * 2 ** 20)
      .describe('Largest request body accepted (bytes); larger ones get 413, like the API server (3 MiB).'),
    maxBodyDepth: z
      .number()
      .int()
      .min(8)
      .max(1000)
      .default(100)
      .describe('Deepest nesting of a JSON or YAML request body; deeper ones are refused with 400 (nested-bomb bodies).'),
  })
  .strict()
  .describe('The gateway\'s Kubernetes API listener (`sluice server`). Clients reach connection NAME at `https://HOST:PORT/clusters/NAME`.');

export const ConnectionSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS label: lower-case letters, digits and -')
      .refine((n) => n !== SLUICE_CONNECTION, `"${SLUICE_CONNECTION}" is reserved: policies name Sluice's own resources (the audit trail) on connection "${SLUICE_CONNECTION}"; choose another name`)
      .describe(`Connection name: policies match it (\`connections:\`), clients reach it at \`/clusters/NAME\`. \`${SLUICE_CONNECTION}\` is reserved for Sluice's own resources (docs/policy.md, "Reading the audit trail").`),
    server: z.url().optional().describe('URL of the Kubernetes API server (with `caFile` and `tokenFile`); leave out when `kubeconfig` or `inCluster` is used.'),
    caFile: z.string().optional().describe('PEM CA bundle that signs the API server\'s certificate (with `server`).'),
    tokenFile: z
      .string()
      .optional()
      .describe('File holding the bearer token Sluice presents upstream (with `server`); re-read when it changes, so projected service-account tokens rotate.'),
    kubeconfig: z.string().optional().describe('Kubeconfig file to take the server, CA and credentials from (instead of `server`).'),
    context: z.string().optional().describe('Context of `kubeconfig` to use; default its current context.'),
    inCluster: z
      .boolean()
      .default(false)
      .describe('Use the pod\'s service account (KUBERNETES_SERVICE_HOST and /var/run/secrets/kubernetes.io/serviceaccount).'),
    impersonate: z
      .boolean()
      .default(true)
      .describe('Send Impersonate-User/-Group and Impersonate-Extra-sluice-request-id so the cluster\'s RBAC and audit log see the person. The upstream identity needs the `impersonate` permission.'),
  })
  .strict()
  .superRefine((c, ctx) => {
    const sources = [c.server ? 1 : 0, c.kubeconfig ? 1 : 0, c.inCluster ? 1 : 0].reduce((a, b) => a + b, 0);
    if (sources !== 1) ctx.addIssue({ code: 'custom', message: 'give exactly one of server (with caFile, tokenFile), kubeconfig, inCluster' });
    if (c.server && !c.tokenFile) ctx.addIssue({ code: 'custom', message: 'server needs tokenFile (the upstream credential)' });
  })
  .describe('A Kubernetes cluster Sluice fronts, and the credentials Sluice uses for it (users never see them).');

export const PolicySchema = z
  .object({
    paths: z
      .array(z.string())
      .default([])
      .describe('Policy files or directories (see docs/policy.md). Reloaded when they change; a broken reload keeps the last valid policy. No policy → every request is denied.'),
  })
  .strict()
  .describe('Authorization policy.');

export const IdentitySchema = z
  .object({
    issuers: IssuersSchema.default([]).describe('OIDC issuers whose access tokens are accepted (see the issuer options below). No issuer → every request is refused with 401.'),
  })
  .strict()
  .describe('Who may connect: identity providers.');

export const StoreSchema = z
  .object({
    sqlite: z
      .object({
        path: z
          .string()
          .min(1)
          .default('.sluice/sluice.db')
          .describe('SQLite database file of the embedded store (audit records and approvals), relative to the working directory; its folder is created. `:memory:` keeps everything in memory and loses it at exit (tests only). `sluice audit` reads this file.'),
        synchronous: z
          .enum(['full', 'normal'])
          .default('full')
          .describe('When an audit record is safe. `full`: the WAL is fsynced (fdatasync, off the event loop) after each commit, and no request is forwarded or answered before its record survives power loss and OS crashes; its outcome (status, bytes, duration) is committed before the last byte and synced right after, without waiting. `normal`: no fsync (only at checkpoints); records survive a crash of the gateway process, but the last transactions may be lost on power loss or an OS crash. Writes of concurrent requests share one commit and one fsync either way.'),
      })
      .strict()
      .default({ path: '.sluice/sluice.db', synchronous: 'full' })
      .describe('The embedded SQLite store (single gateway node). WAL journal; a request\'s record is committed before the request is forwarded (reads: before the first byte of the answer), see `synchronous`.'),
  })
  .strict()
  .describe('Where Sluice keeps its state: audit records and approvals. PostgreSQL (for several gateway replicas) will be an alternative to `sqlite`.');

const configDuration = z.string().regex(DURATION_PATTERN, 'a duration such as 30s, 15m, 1h or 1h30m');

export const WebhookSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a name is lower-case letters, digits and dashes').describe('Name of the webhook in the gateway log.'),
    url: z.string().url().describe('Where to POST (https in production).'),
    format: z
      .enum(['slack', 'json'])
      .default('json')
      .describe('`slack`: a Slack-compatible message (incoming webhook) with approve and deny links to the console; `json`: the approval event as JSON, signed with `secretFile`.'),
    secretFile: z.string().optional().describe('File holding the HMAC-SHA256 key that signs `json` deliveries (header `Sluice-Signature: t=<unix seconds>,v1=<hex>` over `<t>.<body>`). Required for `json`.'),
    events: z
      .array(z.string())
      .default(['approval.requested'])
      .describe('Approval event codes to deliver (docs/audit-events.md), e.g. `approval.requested`, `approval.approved`, `approval.denied`, `approval.expired`.'),
    timeout: configDuration.default('5s').describe('Timeout of one delivery attempt; three attempts with backoff.'),
  })
  .strict()
  .superRefine((w, ctx) => {
    if (w.format === 'json' && !w.secretFile) ctx.addIssue({ code: 'custom', path: ['secretFile'], message: 'a json webhook needs secretFile (its deliveries are signed)' });
  });

export const ApprovalsSchema = z
  .object({
    defaultApprovers: z
      .array(z.string().min(1))
      .min(1)
      .default(['approvers'])
      .describe('Groups whose members may approve when a review rule or role names no `approvers`.'),
    defaultTimeout: configDuration.default('10m').describe('How long a held request (or an access request) waits for a decision when its rule or role sets no `timeout`; then the approval expires and held requests get 403. Also the window an approved request has to run once.'),
    maxHeld: z.number().int().min(1).max(1_000_000).default(10_000).describe('Requests held at once; beyond this a request that needs approval is refused with 503 instead of being held.'),
    consoleUrl: z.string().url().optional().describe('Base URL of the web console; approve and deny links in webhook messages point there.'),
    sameAs: z
      .array(
        z
          .object({
            person: z.string().min(1).describe('Username of the person.'),
            identities: z.array(z.string().min(1)).min(1).describe('Other usernames that are the same person (a second account, machine identities they own).'),
          })
          .strict(),
      )
      .default([])
      .describe('Identities that belong to the same person: nobody approves a request of theirs through another identity.'),
    webhooks: z.array(WebhookSchema).default([]).describe('Outgoing webhooks told about approvals.'),
  })
  .strict()
  .describe('Just-in-time approval (docs/approvals.md): held requests and time-bound grants.');

const MaskRuleSchema = z
  .object({
    kind: z.string().min(1).describe('Kind of the objects the rule applies to, as in the object (`Secret`, `MyApp`), or `*` for every kind.'),
    apiGroup: z.string().optional().describe('API group (`""` for the core group, `apps`, `example.com`); omitted: any group.'),
    paths: z
      .array(z.string().min(1))
      .min(1)
      .describe('Fields to mask, relative to the object: `spec.password`, `data.*` (every key), `spec.containers[*].env[*].value` (every element), `metadata.annotations["example.com/token"]` (a key with dots).'),
    action: z
      .enum(['marker', 'hash', 'detectors', 'json'])
      .default('marker')
      .describe('`marker`: the value becomes `REDACTED`; `hash`: `hmac<20 hex>`, an HMAC under `hashKeyFile` (equal values compare equal without being revealed); `detectors`: only what the value detectors find is masked (counted under the rule\'s name); `json`: the string holds JSON, masked as the object it contains.'),
    name: z.string().min(1).optional().describe('Name of the field in audit counts; default `<kind> <path>`.'),
  })
  .strict();

export const MaskingSchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe('Mask responses. `false` turns masking off for everyone (policy rules can also lift it per request with `mask: off`, recorded in the audit).'),
    secretValues: z
      .enum(['marker', 'hash'])
      .default('marker')
      .describe('Secret `data`/`stringData` values: `marker` (`REDACTED`, keys kept) or `hash` (keyed hash, needs `hashKeyFile`).'),
    hashKeyFile: z.string().optional().describe('File holding the key of the `hash` action (any bytes, at least 32). Required when `secretValues: hash` or a rule hashes.'),
    rules: z.array(MaskRuleSchema).default([]).describe('Masking rules added to the built-in ones (docs/masking.md), e.g. a custom resource\'s `spec.password`.'),
    detectors: z
      .object({
        pii: z
          .object({
            email: z.boolean().default(false).describe('Mask e-mail addresses.'),
            phone: z.boolean().default(false).describe('Mask phone numbers in international form (`+…`).'),
            creditCard: z.boolean().default(true).describe('Mask payment card numbers (Luhn-checked).'),
          })
          .strict()
          .default({ email: false, phone: false, creditCard: true })
          .describe('Detectors of personal data.'),
        custom: z
          .array(
            z
              .object({
                name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a name is lower-case letters, digits and dashes').describe('Detector name; findings show as `[MASKED:custom:<name>]`.'),
                pattern: z.string().min(1).describe('ECMAScript regular expression; refused if it can match the empty string or nests unbounded quantifiers.'),
                flags: z.string().regex(/^[imsu]*$/, 'flags may be i, m, s and u').optional().describe('Regex flags (`i`, `m`, `s`, `u`).'),
              })
              .strict(),
          )
          .default([])
          .describe('Operator-defined detectors.'),
        disable: z.array(z.string().min(1)).default([]).describe('Built-in detectors to turn off by name (`jwt`, `credit-card`, …; docs/masking.md lists them).'),
      })
      .strict()
      .default({ pii: { email: false, phone: false, creditCard: true }, custom: [], disable: [] })
      .describe('Value detectors run over every string of a response and every line of logs and exec output.'),
    sensitiveEnvNames: z
      .union([z.literal(false), z.string().min(1)])
      .optional()
      .describe('Container env variables whose name matches are masked whatever their value (`REDACTED`): a case-insensitive regular expression over the name, or `false` to mask env values by the detectors only. Default: names with PASSWORD, SECRET, TOKEN, API_KEY, ACCESS_KEY, PRIVATE_KEY, CREDENTIAL, DSN… that do not end in _FILE, _PATH, _URL… (docs/masking.md).'),
    maxElementBytes: z
      .number()
      .int()
      .min(1024)
      .default(8 * 1024 * 1024)
      .describe('Largest single object, list element or watch event the masker holds; a larger one ends the response with an error (never passed on unmasked).'),
    maxLineBytes: z
      .number()
      .int()
      .min(1024)
      .default(1024 * 1024)
      .describe('Longest line of logs or exec output held for masking; the rest of a longer line is masked conservatively (docs/masking.md).'),
  })
  .strict()
  .describe('Inline masking of responses (docs/masking.md): Secret values, tokens and credentials found by value detectors, in every response, watch event, log line and exec frame.');

const MiB = 1024 * 1024;

export const RecordingSchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe('Record request and response bodies (as the client received them: masked) and exec/attach sessions with every audit record. Off: the records and the hash chain only.'),
    maxRequestBytes: z.number().int().min(0).default(3 * MiB).describe('Bytes of a request body recorded (masked); the rest is counted, and the body marked `truncated`.'),
    maxResponseBytes: z
      .number()
      .int()
      .min(0)
      .default(4 * MiB)
      .describe('Bytes of a response recorded — a single answer, or a whole watch or `logs -f` stream; the rest is counted, and the body marked `truncated`.'),
    maxTerminalBytes: z.number().int().min(0).default(64 * MiB).describe('Bytes of an exec/attach session recorded, over stdin, stdout and stderr together.'),
    retentionDays: z
      .number()
      .int()
      .min(1)
      .default(30)
      .describe('Recorded bodies and terminal sessions older than this are deleted; their events stay (the chain still verifies, `verify` reports the bodies as pruned). At most `trail.retentionDays`.'),
  })
  .strict()
  .describe('Recording of bodies and terminal sessions (docs/recording.md). Chunks are stored in the audit store and committed to the trail by digest.');

export const TrailSchema = z
  .object({
    signingKeyFile: z
      .string()
      .min(1)
      .default('.sluice/trail-signing.pem')
      .describe('Ed25519 private key (PKCS#8 PEM, mode 0600) that signs the trail\'s checkpoints; created at first start when missing (`sluice audit keys generate` creates one ahead). Give auditors the public key (`sluice audit keys export`): `sluice audit verify` trusts only keys it is given.'),
    checkpointEvents: z.number().int().min(1).default(10_000).describe('A signed checkpoint after this many events.'),
    checkpointSeconds: z.number().int().min(0).default(60).describe('…and at this interval while there are new events (0: by count only).'),
    retentionDays: z
      .number()
      .int()
      .min(1)
      .default(400)
      .describe('Events (with their records and recorded bodies) older than this are deleted, whole checkpoint ranges at a time, so the trail still verifies from the signed checkpoint where it now starts; a `trail.pruned` event records each cut. Checked at start and hourly.'),
  })
  .strict()
  .describe('The tamper-evident trail (docs/audit-events.md#the-trail): every audit event is appended to a SHA-256 hash chain with signed checkpoints.');

export const McpSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Serve Sluice\'s own MCP endpoint at `/mcp` on the gateway\'s listener (docs/mcp.md): Streamable HTTP, tools over the connections, every call through the Kubernetes pipeline.'),
    resource: z
      .string()
      .url()
      .optional()
      .describe('The endpoint\'s resource identifier (RFC 8707, RFC 9728 `resource`): its canonical https URL as clients reach it, e.g. `https://sluice.example.com/mcp`. Access tokens must carry it in `aud`. Default: the listener\'s URL + `/mcp` (right for loopback only).'),
    audiences: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('`aud` values accepted at the endpoint instead of `resource` alone (e.g. when the identity provider cannot put the URL in `aud`). Never an audience of `identity.issuers` (refused at load): a token for the Kubernetes listener must not be a token for the endpoint.'),
    authorizationServers: z
      .array(z.string().url())
      .optional()
      .describe('Authorization servers named in the protected resource metadata (RFC 9728 `authorization_servers`). Default: the configured `identity.issuers`.'),
    scopes: z.array(z.string().min(1)).default(['openid', 'profile', 'email', 'groups']).describe('`scopes_supported` in the protected resource metadata: what a client asks for when it logs in.'),
    sessions: z
      .enum(['stateful', 'stateless'])
      .default('stateful')
      .describe('`stateful`: the endpoint issues an `Mcp-Session-Id` bound to the caller (another identity presenting it gets 404); `stateless`: no sessions, every POST stands alone (for several gateway replicas behind a load balancer).'),
    sessionIdleTimeout: configDuration.default('30m').describe('A stateful session unused this long is closed (the client initializes again); a session with a request in flight (a call waiting for an approver, an open stream) is never idle.'),
    maxSessionsPerPrincipal: z.number().int().min(1).max(10_000).default(32).describe('Open sessions per identity: a new one closes the least recently used idle one, or is refused (429) when all are busy.'),
    allowedOrigins: z
      .array(z.string().url())
      .default([])
      .describe('Browser origins allowed to call the endpoint besides the resource\'s own (they get CORS headers and preflight answers). Any other `Origin` is refused with 403 (DNS rebinding).'),
    allowedHosts: z
      .array(z.string().min(1))
      .default([])
      .describe('`Host` values accepted besides the resource\'s own host (and, on a loopback listener, `localhost`/`127.0.0.1`/`[::1]` with the port). Any other Host is refused with 403 (DNS rebinding).'),
    maxAnswerBytes: z.number().int().min(1024).max(64 * MiB).default(1 * MiB).describe('Largest Kubernetes answer a tool reads (bytes); longer ones are cut and the result says so.'),
    progressInterval: configDuration.default('10s').describe('While a tool call is held for approval, a progress notification is sent this often (clients that sent a progress token reset their time-out on each).'),
  })
  .strict()
  .describe('Sluice\'s own MCP endpoint (docs/mcp.md): an OAuth 2.1 protected resource per the MCP authorization specification.');

export const ConfigSchema = z
  .object({
    log: LogSchema.default(LogSchema.parse({})),
    demo: DemoSchema.default(DemoSchema.parse({})),
    emulator: EmulatorSchema.default(EmulatorSchema.parse({})),
    server: ServerSchema.default(ServerSchema.parse({})),
    identity: IdentitySchema.default(IdentitySchema.parse({})),
    connections: z
      .array(ConnectionSchema)
      .default([])
      .superRefine((cs, ctx) => {
        const seen = new Set<string>();
        for (const [i, c] of cs.entries()) {
          if (seen.has(c.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `connection name "${c.name}" is used twice` });
          seen.add(c.name);
        }
      })
      .describe('Kubernetes clusters behind the gateway.'),
    policy: PolicySchema.default(PolicySchema.parse({})),
    store: StoreSchema.default(StoreSchema.parse({})),
    approvals: ApprovalsSchema.default(ApprovalsSchema.parse({})),
    masking: MaskingSchema.default(MaskingSchema.parse({})),
    recording: RecordingSchema.default(RecordingSchema.parse({})),
    trail: TrailSchema.default(TrailSchema.parse({})),
    mcp: McpSchema.default(McpSchema.parse({})),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    // A token for the Kubernetes listener must never be a token for the MCP endpoint, or the
    // other way round (MCP authorization: tokens are audience-bound, no passthrough).
    const kube = new Set(cfg.identity.issuers.flatMap((i) => i.audiences));
    const mcp = cfg.mcp.audiences ?? (cfg.mcp.resource ? [cfg.mcp.resource] : []);
    for (const [i, a] of mcp.entries()) {
      if (kube.has(a)) {
        ctx.addIssue({ code: 'custom', path: ['mcp', cfg.mcp.audiences ? 'audiences' : 'resource', ...(cfg.mcp.audiences ? [i] : [])], message: `"${a}" is also an audience of identity.issuers: a token for the Kubernetes listener would be accepted by the MCP endpoint` });
      }
    }
  })
  .describe('Sluice configuration file (YAML).');

export type Config = z.infer<typeof ConfigSchema>;
