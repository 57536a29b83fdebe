/**
 * The one configuration schema of Sluice. Every option is documented here, where it is defined
 * (`.describe()`), and `docs/config.md` is generated from it (`sluice config docs`); a test
 * checks that every option has a description and that the document is current.
 * Defaults live here too, so an empty file is a valid configuration.
 */
import { z } from 'zod';

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
    kubernetesPort: port.default(0).describe('Port of the demo Kubernetes API (the emulator); 0 picks a free port.'),
  })
  .strict()
  .describe('The demo world started by `sluice demo`: a real OIDC provider with demo users and a seeded Kubernetes API emulator.');

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

export const ConfigSchema = z
  .object({
    log: LogSchema.default(LogSchema.parse({})),
    demo: DemoSchema.default(DemoSchema.parse({})),
    emulator: EmulatorSchema.default(EmulatorSchema.parse({})),
  })
  .strict()
  .describe('Sluice configuration file (YAML).');

export type Config = z.infer<typeof ConfigSchema>;
