import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findViolations, importCycles, type SourceFile } from '../../support/architecture.js';
import { REPO_ROOT } from '../../support/repo-root.js';

function sourceFiles(dir: string): SourceFile[] {
  return readdirSync(join(REPO_ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => {
      const full = join(entry.parentPath, entry.name);
      return { path: relative(REPO_ROOT, full).split('\\').join('/'), text: readFileSync(full, 'utf8') };
    });
}

describe('architecture rules', () => {
  it('hold for every file under src/', () => {
    const files = sourceFiles('src');
    expect(files.length).toBeGreaterThan(10);
    expect(findViolations(files)).toEqual([]);
  });

  it('catch an adapter library imported outside its folder', () => {
    const files = [{ path: 'src/main.ts', text: "import knex from 'knex';\nimport { pino } from 'pino';" }];
    expect(findViolations(files)).toEqual([
      'src/main.ts imports knex, which only src/store/knex/ may import',
      'src/main.ts imports pino, which only src/log.ts may import',
    ]);
  });

  it('catch a core folder doing I/O, reading the clock or the environment', () => {
    const files = [
      {
        path: 'src/routing/core/trie.ts',
        text: [
          "import { readFileSync } from 'node:fs';",
          "import { KnexStore } from '../../store/knex/knex-store.js';",
          "import type { RowProblem } from '../../errors.js';",
          "import type { Store } from '../../store/store.js';",
          "import { decodeRows } from '../../core/model/decode-rows.js';",
          'export const now = () => Date.now();',
          'export const pick = () => Math.random();',
          'export const today = () => new Date();',
          'export const port = () => process.env.PORT;',
          '// new Date() in a comment is fine',
        ].join('\n'),
      },
    ];
    expect(findViolations(files)).toEqual([
      'src/routing/core/trie.ts (pure) imports node:fs; pure code takes what it needs as arguments',
      'src/routing/core/trie.ts (pure) imports ../../store/knex/knex-store.js, which is not pure',
      'src/routing/core/trie.ts reads the clock (Date.now()); take the time as an argument',
      'src/routing/core/trie.ts reads the clock (new Date()); take the time as an argument',
      'src/routing/core/trie.ts draws randomness (Math.random()); take a random function as an argument',
      'src/routing/core/trie.ts reads process.env; configuration comes in as an argument',
    ]);
  });

  it('let the files beside a core folder do I/O, and nothing in it', () => {
    const files = [
      {
        path: 'src/routing/routing-service.ts',
        text: "import { readFileSync } from 'node:fs';\nconst t = Date.now();",
      },
      { path: 'src/routing/core/route-call.ts', text: "import { readFileSync } from 'node:fs';" },
    ];
    expect(findViolations(files)).toEqual([
      'src/routing/core/route-call.ts (pure) imports node:fs; pure code takes what it needs as arguments',
    ]);
  });

  it('let only the CLI read process.env, even outside pure folders', () => {
    const files = [
      { path: 'src/cli.ts', text: 'const env = process.env;' },
      { path: 'src/main.ts', text: 'const port = process.env.PORT;' },
    ];
    expect(findViolations(files)).toEqual(['src/main.ts reads process.env; configuration comes in as an argument']);
  });

  it('find no import cycle among the files of src/, test/ and bench/', () => {
    const files = ['src', 'test', 'bench'].flatMap(sourceFiles);
    expect(files.length).toBeGreaterThan(100);
    expect(importCycles(files)).toEqual([]);
  });

  it('catch an import cycle, a type-only one too, each shown once along its shortest loop', () => {
    const files = [
      { path: 'src/a.ts', text: "import { b } from './b.js';" },
      { path: 'src/b.ts', text: "import type { C } from './c/c.js';\nimport { a } from './a.js';" },
      { path: 'src/c/c.ts', text: "import { a } from '../a.js';" },
      { path: 'src/d.ts', text: "import { a } from './a.js';" },
      { path: 'src/e.ts', text: "import type { F } from './f.js';" },
      { path: 'src/f.ts', text: "import type { E } from './e.js';" },
    ];
    expect(importCycles(files)).toEqual([
      ['src/a.ts', 'src/b.ts'],
      ['src/e.ts', 'src/f.ts'],
    ]);
  });
});
