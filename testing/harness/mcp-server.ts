/**
 * Run a real, unmodified Kubernetes MCP server over stdio and drive it with the official MCP SDK
 * client, as an AI agent's host (Claude Desktop, Cursor, …) does: spawn the server with a
 * kubeconfig, `initialize`, `tools/call`. Two servers are installed as devDependencies:
 *
 * - `kubernetes-mcp-server` (containers/kubernetes-mcp-server): a Go binary shipped in the
 *   platform package `kubernetes-mcp-server-<os>-<arch>`; talks to the API with client-go.
 * - `mcp-server-kubernetes` (Flux159): Node; runs `kubectl` from PATH for most tools and uses
 *   @kubernetes/client-node for a few.
 *
 * Both read the kubeconfig they are given and nothing else; the tests point it at the Sluice
 * gateway with an exec credential plugin, so neither server ever holds a long-lived token.
 */
import { mkdir, symlink } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { kubectlPath } from './kubectl-path.ts';

export type McpServerName = 'kubernetes-mcp-server' | 'mcp-server-kubernetes';

const require = createRequire(import.meta.url);

function missing(pkg: string, detail: string): Error {
  return new Error(`${pkg} is not installed (${detail}); run \`npm install\` (it is a devDependency of Sluice)`);
}

/** Go's names for Node's platform and architecture, as the npm wrapper maps them. */
function goTarget(): string {
  const os = { linux: 'linux', darwin: 'darwin', win32: 'windows' }[process.platform as string];
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch as string];
  if (!os || !arch) throw new Error(`kubernetes-mcp-server ships no binary for ${process.platform}/${process.arch}`);
  return `${os}-${arch}`;
}

/** The command that starts a server: absolute paths under node_modules, never PATH. */
function mcpServerCommand(name: McpServerName): { command: string; args: string[] } {
  if (name === 'kubernetes-mcp-server') {
    const pkg = `kubernetes-mcp-server-${goTarget()}`;
    let dir: string;
    try {
      dir = dirname(require.resolve(`${pkg}/package.json`));
    } catch {
      throw missing(pkg, 'the platform package with the Go binary was not found under node_modules');
    }
    const binary = join(dir, 'bin', `${pkg}${process.platform === 'win32' ? '.exe' : ''}`);
    if (!existsSync(binary)) throw missing(pkg, `${binary} does not exist`);
    return { command: binary, args: [] };
  }
  let manifest: string;
  try {
    manifest = require.resolve('mcp-server-kubernetes/package.json');
  } catch {
    throw missing('mcp-server-kubernetes', 'not found under node_modules');
  }
  const bin = (JSON.parse(readFileSync(manifest, 'utf8')) as { bin?: Record<string, string> }).bin?.['mcp-server-kubernetes'];
  const script = bin ? join(dirname(manifest), bin) : '';
  if (!bin || !existsSync(script)) throw missing('mcp-server-kubernetes', `its bin script ${script || '(none in package.json)'} does not exist`);
  return { command: process.execPath, args: [script] };
}

/**
 * A folder holding one `kubectl` (a symlink to the versioned binary), to put first on PATH:
 * the Flux159 server runs `kubectl` by name, and the tests want to know which one it ran.
 */
export async function kubectlPathDir(dir: string, version: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const link = join(dir, 'kubectl');
  if (!existsSync(link)) await symlink(kubectlPath(version), link);
  return dir;
}

/** A tool call as the agent sees it: the result's text, or the JSON-RPC error the call failed with. */
export interface ToolOutcome {
  /** `isError` of the result, or true when the call failed with a JSON-RPC error. */
  isError: boolean;
  /** The text content of the result (joined), or the JSON-RPC error's message. */
  text: string;
  /** Everything the agent received (the whole result as JSON, or the error message). */
  seen: string;
  /** True when the server answered with a JSON-RPC error instead of a result. */
  protocolError: boolean;
}

export interface McpSession {
  server: McpServerName;
  client: Client;
  /** Process id of the server. */
  pid: number | null;
  /** What the server wrote to stderr so far (for failure messages). */
  stderr(): string;
  /** `tools/call`; `timeoutMs` is the SDK request timeout (default 120 s). */
  call(name: string, args: Record<string, unknown>, timeoutMs?: number): Promise<ToolOutcome>;
  /** Close the client; the SDK ends stdin, then SIGTERM, then SIGKILL. */
  close(): Promise<void>;
}

export interface StartMcpServerOptions {
  server: McpServerName;
  kubeconfig: string;
  /** HOME of the server (and of the kubectl and exec plugin it runs): keeps ~/.kube of the machine out. */
  home: string;
  /** Extra server arguments. */
  args?: string[];
  /** Extra environment, merged over the SDK's default (HOME, PATH, USER, …). */
  env?: Record<string, string>;
}

export async function startMcpServer(opts: StartMcpServerOptions): Promise<McpSession> {
  const { command, args } = mcpServerCommand(opts.server);
  const serverArgs = opts.server === 'kubernetes-mcp-server' ? ['--kubeconfig', opts.kubeconfig, ...(opts.args ?? [])] : (opts.args ?? []);
  const transport = new StdioClientTransport({
    command,
    args: [...args, ...serverArgs],
    env: { HOME: opts.home, KUBECONFIG: opts.kubeconfig, ...opts.env },
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => {
    err += String(d);
    if (err.length > 256 * 1024) err = err.slice(-128 * 1024);
  });
  const client = new Client({ name: 'sluice-e2e-agent', version: '1.0.0' });
  await client.connect(transport);

  return {
    server: opts.server,
    client,
    pid: transport.pid,
    stderr: () => err,
    async call(name, toolArgs, timeoutMs = 120_000) {
      try {
        const result = await client.callTool({ name, arguments: toolArgs }, undefined, { timeout: timeoutMs });
        const content = (result.content ?? []) as Array<{ type: string; text?: string }>;
        const text = content.map((c) => (c.type === 'text' ? (c.text ?? '') : '')).join('\n');
        return { isError: result.isError === true, text, seen: JSON.stringify(result), protocolError: false };
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        return { isError: true, text: message, seen: message, protocolError: true };
      }
    },
    close: () => client.close(),
  };
}
