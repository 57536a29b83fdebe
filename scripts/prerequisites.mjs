#!/usr/bin/env node
// Checks (and where possible installs) what the test suite needs beyond npm packages.
// kubectl 1.27–1.33 and PostgreSQL 15 come with the machine image: missing ones are reported
// clearly. System packages the tests install themselves (Chromium, …) are added here as the
// suites that need them arrive, with `apt-get update` then `apt-get install -y`.
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.SLUICE_KUBECTL_DIR ?? '/usr/lib/google-cloud-sdk/bin';
const needed = ['1.27', '1.33'];
const missing = needed.filter((v) => {
  try {
    accessSync(join(dir, `kubectl.${v}`), constants.X_OK);
    return false;
  } catch {
    return true;
  }
});
if (missing.length) {
  console.error(
    `prerequisites: kubectl ${missing.join(', ')} not found in ${dir} (as kubectl.1.NN). ` +
      'The end-to-end tests drive real kubectl; install those versions or set SLUICE_KUBECTL_DIR. [KUBECTL_MISSING]',
  );
  process.exit(2);
}
console.log(`prerequisites: kubectl ${needed.join(', ')} found in ${dir}`);
