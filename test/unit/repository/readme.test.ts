import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_LEAVES } from '../../../src/config/schema-leaves.js';
import { allDocumentation, documentationFiles, localLinks, readDocument } from '../../support/documentation.js';
import { REPO_ROOT as ROOT } from '../../support/repo-root.js';

/** The configuration table and the error table stay in the README (what a newcomer needs); the rest may be in docs/. */
const README = readDocument('README.md');
const DOCUMENTATION = allDocumentation();

describe('the documentation keeps up with the code', () => {
  it('documents every configuration key', () => {
    const missing = CONFIG_LEAVES.map((leaf) => leaf.key).filter((key) => !README.includes(`\`${key}\``));
    expect(CONFIG_LEAVES.length).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });

  it('documents every error code', () => {
    const source = readFileSync(join(ROOT, 'src', 'errors.ts'), 'utf8');
    const codes = [...source.matchAll(/'(DROUTER_ERR_[A-Z_]+)'/g)].map((match) => match[1]);
    expect(codes.length).toBeGreaterThan(3);
    expect(codes.filter((code) => !README.includes(`\`${code}\``))).toEqual([]);
  });

  it('documents every SQL file', () => {
    const files = readdirSync(join(ROOT, 'sql')).filter((file) => file.endsWith('.sql'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    expect(files.filter((file) => !DOCUMENTATION.includes(`sql/${file}`))).toEqual([]);
  });

  it('documents every DROUTER_TEST_* variable the tests and CI read', () => {
    const files = [
      join(ROOT, '.ci', 'run'),
      ...readdirSync(join(ROOT, 'test'), { recursive: true, encoding: 'utf8' })
        .filter((file) => file.endsWith('.ts'))
        .map((file) => join(ROOT, 'test', file)),
    ];
    const variables = new Set(
      files.flatMap((file) =>
        [...readFileSync(file, 'utf8').matchAll(/DROUTER_TEST_[A-Z0-9_]*[A-Z0-9]/g)].map((match) => match[0]),
      ),
    );
    expect(variables.size).toBeGreaterThan(5);
    expect([...variables].filter((variable) => !new RegExp(`\`${variable}[=\`]`).test(DOCUMENTATION))).toEqual([]);
  });

  it('links every document under docs/ from the README, and every link resolves', () => {
    const docs = documentationFiles().filter((file) => file !== 'README.md');
    expect(docs.length).toBeGreaterThanOrEqual(10);
    const linked = new Set(documentationFiles().flatMap(localLinks));
    expect(docs.filter((file) => !linked.has(file))).toEqual([]);
    expect([...linked].filter((file) => !existsSync(join(ROOT, file)))).toEqual([]);
  });
});
