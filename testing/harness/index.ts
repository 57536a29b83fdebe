/**
 * End-to-end test helpers: real kubectl binaries by version, kubeconfigs, running kubectl
 * (to completion or long-running), free ports, and a test world (identity provider + Kubernetes
 * API emulator). One helper per file; this index re-exports them.
 */
export { availableKubectlVersions, DEFAULT_KUBECTL_DIR, kubectlDir, kubectlPath } from './kubectl-path.ts';
export { buildKubeconfig, writeKubeconfig, type ExecPlugin, type KubeconfigOptions } from './kubeconfig.ts';
export { kubectlCommand, runKubectl, stopChild, type KubectlOptions, type KubectlResult, type RunKubectlOptions } from './run-kubectl.ts';
export { spawnKubectl, type SpawnedKubectl } from './spawn-kubectl.ts';
export { freePort } from './free-port.ts';
export { emulatorOidcOptions, type EmulatorOidcOptions } from './emulator-oidc.ts';
export { startTestWorld, type TestWorld, type TestWorldOptions } from './test-world.ts';
export { idpTokenFor } from './idp-token.ts';
export { kubectlPathDir, startMcpServer, type McpServerName, type McpSession, type ToolOutcome } from './mcp-server.ts';
export { eventually, mcpEndpointKit, toolText, type McpEndpointKit } from './mcp-endpoint-kit.ts';
