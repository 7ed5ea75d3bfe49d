import { readFileSync } from 'node:fs';

/**
 * This build's version: package.json's, one folder up from both src/ (the
 * tests) and dist/ (the installed command), so `drouter --version`, the
 * start-up line and `sipdr_build_info` cannot disagree with the package.
 */
export function packageVersion(): string {
  const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
  const { version } = JSON.parse(text) as { version?: unknown };
  if (typeof version !== 'string') throw new Error('package.json has no version string');
  return version;
}
