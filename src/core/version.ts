/** Sluice's version, read once from the package.json above this file (sources or dist/). */
import { existsSync, readFileSync } from 'node:fs';

function findPackageJson(): string {
  for (let url = new URL('./package.json', import.meta.url); ; ) {
    if (existsSync(url)) return readFileSync(url, 'utf8');
    const up = new URL('../package.json', new URL('.', url));
    if (up.href === url.href) throw new Error('package.json not found');
    url = up;
  }
}

export const VERSION: string = (JSON.parse(findPackageJson()) as { version: string }).version;
