/**
 * Where the real kubectl binaries are. The machine has one binary per minor version
 * (`kubectl.1.27` … `kubectl.1.33`) beside a `kubectl` dispatcher that picks a version from the
 * server's /version; tests call a versioned binary directly so they know what they ran.
 * SLUICE_KUBECTL_DIR overrides the folder.
 */
import { accessSync, constants, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SluiceError } from '../../src/core/errors.ts';

/** Default folder of the versioned kubectl binaries. */
export const DEFAULT_KUBECTL_DIR = '/usr/lib/google-cloud-sdk/bin';

/** The folder searched for `kubectl.<major>.<minor>`. */
export function kubectlDir(): string {
  return process.env.SLUICE_KUBECTL_DIR || DEFAULT_KUBECTL_DIR;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Versions ("1.27", …) present in the folder, oldest first. */
export function availableKubectlVersions(): string[] {
  let names: string[];
  try {
    names = readdirSync(kubectlDir());
  } catch {
    return [];
  }
  return names
    .map((n) => /^kubectl\.(\d+\.\d+)$/.exec(n)?.[1])
    .filter((v): v is string => v !== undefined && executable(join(kubectlDir(), `kubectl.${v}`)))
    .sort((a, b) => {
      const [am = 0, an = 0] = a.split('.').map(Number);
      const [bm = 0, bn = 0] = b.split('.').map(Number);
      return am - bm || an - bn;
    });
}

/** Absolute path of kubectl for a version such as "1.27" (a leading "v" is fine). Throws when missing. */
export function kubectlPath(version: string): string {
  const v = version.replace(/^v/, '');
  if (!/^\d+\.\d+$/.test(v)) throw new Error(`kubectl version must look like "1.27", got "${version}"`);
  const path = join(kubectlDir(), `kubectl.${v}`);
  if (executable(path)) return path;
  const have = availableKubectlVersions();
  throw new SluiceError(
    'KUBECTL_MISSING',
    `kubectl ${v} not found: no executable ${path}. ` +
      (have.length ? `Available in ${kubectlDir()}: ${have.join(', ')}.` : `No kubectl.<version> binaries in ${kubectlDir()}.`) +
      ' Set SLUICE_KUBECTL_DIR to another folder.',
  );
}
