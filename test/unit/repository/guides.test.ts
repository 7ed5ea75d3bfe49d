import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { documentationFiles } from '../../support/documentation.js';
import { REPO_ROOT } from '../../support/repo-root.js';
import { guideBlocks, outputMismatch, siteNames } from '../../support/guide-runner.js';

/** Each guide of docs/guides/ is run by a test; the runner's reading of a guide is checked here on its own. */

const GUIDES = documentationFiles().filter(
  (file) => file.startsWith(join('docs', 'guides')) && !file.endsWith('README.md'),
);

function testSources(): string {
  return readdirSync(join(REPO_ROOT, 'test'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => readFileSync(join(REPO_ROOT, 'test', file), 'utf8'))
    .join('\n');
}

describe('docs/guides/', () => {
  it('every guide has commands to run, and a test that names it runs them', () => {
    expect(GUIDES.length).toBeGreaterThanOrEqual(4);
    const sources = testSources();
    expect(GUIDES.filter((guide) => !sources.includes(`'${guide}'`))).toEqual([]);
    expect(
      GUIDES.filter((guide) => !guideBlocks(guide).some((block) => block.kind === 'sh' || block.kind === 'sql')),
    ).toEqual([]);
  });
});

describe('the guide runner', () => {
  const actual =
    'source   the server\nnumber   0114420\nat       2026-12-06T01:52:56.846Z\noutcome  routed\nrule     1, prefix "011"\n';

  it('takes shown lines in order, other lines between, … for any text', () => {
    expect(outputMismatch('number   0114420\nat       …\nrule     1, prefix "011"', actual)).toBeUndefined();
  });

  it('names a shown line that is missing, or out of order', () => {
    expect(outputMismatch('rule     4, prefix "01144"', actual)).toMatch(
      /^the line "rule {5}4, prefix \\"01144\\"" is not in the output/,
    );
    expect(outputMismatch('outcome  routed\nnumber   0114420', actual)).toMatch(
      /"number {3}0114420" is not in the output \(after line 4\)/,
    );
    // … stays within a line, and the rest is literal.
    expect(outputMismatch('rule     1…"012"', actual)).toMatch(/is not in the output/);
  });

  it("reads a site block's names, and refuses a line that sets none", () => {
    const block = {
      kind: 'site' as const,
      line: 10,
      text: 'export DROUTER_CONFIG=/etc/x.yaml\nSIP_SERVER=192.0.2.1:5060   # a comment\n\n# only a comment',
    };
    expect(siteNames(block)).toEqual(['DROUTER_CONFIG', 'SIP_SERVER']);
    expect(() => siteNames({ ...block, text: 'cd /etc' })).toThrow(/line 11 of the site block is not NAME=value/);
  });
});
