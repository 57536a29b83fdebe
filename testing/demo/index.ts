/**
 * The demo world: identities (./users.ts), `startDemo` (identity provider + emulator + a demo
 * folder of kubeconfigs) and `demoToken` (what `sluice demo token <user>` prints). Importing
 * this index loads no server code; startDemo loads it when called.
 */
export { DEFAULT_DEMO_DIR, REPO_ROOT, startDemo, type DemoWorld, type StartDemoOptions } from './start-demo.ts';
export { demoToken, demoTokens, type DemoTokenOptions } from './demo-token.ts';
export { DEMO_STATE_FILE, readDemoState, writeDemoState, type DemoState } from './demo-state.ts';
export { execCredential, type ExecCredential } from './exec-credential.ts';
export { DEMO_PASSWORD, DEMO_USERS, findDemoUser, formatDemoUsers, type DemoUser } from './users.ts';
