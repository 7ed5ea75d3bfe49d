import ts from 'typescript';

/**
 * The shape rules of STYLE.md as code: which files may import which
 * libraries, and what the pure folders may not touch.
 */

export interface SourceFile {
  /** Path relative to the repository root, with forward slashes. */
  path: string;
  text: string;
}

/** Libraries that only their adapter folder may import. */
export const ADAPTER_OWNERS: Readonly<Record<string, string>> = {
  knex: 'src/store/knex/',
  mysql2: 'src/store/knex/',
  'better-sqlite3': 'src/store/knex/',
  fastify: 'src/admin/',
  ioredis: 'src/cache/redis/',
  'prom-client': 'src/metrics/',
  sip: 'src/sip/native/',
  'drachtio-srf': 'src/sip/drachtio/',
  pino: 'src/log.ts',
};

/**
 * Pure logic, data in and data out, lives in a folder named `core`: each
 * area keeps its pure core in `src/<area>/core/` beside the services and
 * adapters that do the I/O around it, and `src/core/` holds what every area
 * shares (the tables' shapes in `src/core/model/`). The layout says which
 * files are pure; this rule only reads it.
 */
const PURE_FOLDER = 'core';

/** Packages (and node: built-ins) a pure module may import: hashing only (randomness is caught below). */
const PURE_ALLOWED_PACKAGES = new Set<string>(['node:crypto']);

const IMPURE_CALLS: readonly [RegExp, string][] = [
  [/\bDate\.now\(/, 'reads the clock (Date.now()); take the time as an argument'],
  [/\bnew Date\(\s*\)/, 'reads the clock (new Date()); take the time as an argument'],
  [/\bMath\.random\b/, 'draws randomness (Math.random()); take a random function as an argument'],
  [/\bprocess\.env\b/, 'reads process.env; configuration comes in as an argument'],
  [/\bperformance\.now\(/, 'reads the clock (performance.now())'],
  [/\b(randomBytes|randomUUID|randomInt|randomFill\w*)\(/, 'draws randomness (node:crypto); take it as an argument'],
];

/** Error classes are plain data, shared by pure and I/O code. */
const PURE_SHARED_FILE = 'src/errors.ts';

/** Only the CLI (the process edge) reads the environment. */
const ENV_READERS = new Set(['src/cli.ts']);

export interface ImportEdge {
  specifier: string;
  /** `import type …` / `export type … from`: no code is loaded. */
  typeOnly: boolean;
}

export function importsOf(text: string): ImportEdge[] {
  const source = ts.createSourceFile('file.ts', text, ts.ScriptTarget.ES2022, false);
  const edges: ImportEdge[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      edges.push({ specifier: node.moduleSpecifier.text, typeOnly: node.importClause?.isTypeOnly ?? false });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      edges.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteral(argument)) edges.push({ specifier: argument.text, typeOnly: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

function isPure(path: string): boolean {
  return path.split('/').slice(0, -1).includes(PURE_FOLDER);
}

function resolveRelative(from: string, specifier: string): string {
  const parts = from.split('/').slice(0, -1);
  for (const segment of specifier.split('/')) {
    if (segment === '..') parts.pop();
    else if (segment !== '.') parts.push(segment);
  }
  return parts.join('/').replace(/\.js$/, '.ts');
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
}

export function findViolations(files: readonly SourceFile[]): string[] {
  const violations: string[] = [];
  for (const file of files) {
    for (const { specifier, typeOnly } of importsOf(file.text)) {
      const relative = specifier.startsWith('.');
      const name = relative ? specifier : packageName(specifier);
      const owner = ADAPTER_OWNERS[name];
      if (owner && !file.path.startsWith(owner)) {
        violations.push(`${file.path} imports ${name}, which only ${owner} may import`);
      }
      if (!isPure(file.path)) continue;
      if (relative) {
        const target = resolveRelative(file.path, specifier);
        // Types carry no I/O: a pure module may name a port's or the config's types.
        if (!typeOnly && !isPure(target) && target !== PURE_SHARED_FILE) {
          violations.push(`${file.path} (pure) imports ${specifier}, which is not pure`);
        }
      } else if (!PURE_ALLOWED_PACKAGES.has(name)) {
        violations.push(`${file.path} (pure) imports ${specifier}; pure code takes what it needs as arguments`);
      }
    }
    const code = stripComments(file.text);
    for (const [pattern, why] of IMPURE_CALLS) {
      const envRule = pattern.source.includes('process');
      const applies = envRule ? !ENV_READERS.has(file.path) : isPure(file.path);
      if (applies && pattern.test(code)) violations.push(`${file.path} ${why}`);
    }
  }
  return violations;
}

/**
 * The import cycles among `files` (type-only imports too: a cycle of types
 * is still two modules that cannot be understood one without the other),
 * each as its files in import order, starting from its smallest path.
 * One cycle per strongly connected group of files (Tarjan), shown along a
 * shortest loop through its first file.
 */
export function importCycles(files: readonly SourceFile[]): string[][] {
  const paths = new Set(files.map((file) => file.path));
  const edges = new Map<string, string[]>();
  for (const file of files) {
    const targets = importsOf(file.text)
      .filter(({ specifier }) => specifier.startsWith('.'))
      .map(({ specifier }) => resolveRelative(file.path, specifier))
      .filter((target) => paths.has(target));
    edges.set(file.path, [...new Set(targets)].sort());
  }
  return stronglyConnected(edges)
    .filter((group) => group.length > 1)
    .map((group) => shortestLoop(edges, [...group].sort()[0] as string, new Set(group)))
    .sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? ''));
}

function stronglyConnected(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of edges.get(node) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node) as number, low.get(target) as number));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node) as number, index.get(target) as number));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const group: string[] = [];
    let member: string;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      group.push(member);
    } while (member !== node);
    groups.push(group);
  };
  for (const node of edges.keys()) if (!index.has(node)) visit(node);
  return groups;
}

/** A shortest path from `start` back to itself inside `group` (breadth first). */
function shortestLoop(
  edges: ReadonlyMap<string, readonly string[]>,
  start: string,
  group: ReadonlySet<string>,
): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift() as string;
    for (const target of edges.get(node) ?? []) {
      if (!group.has(target)) continue;
      if (target === start) {
        const loop = [node];
        while (loop[0] !== start) loop.unshift(cameFrom.get(loop[0] as string) as string);
        return loop;
      }
      if (!cameFrom.has(target)) {
        cameFrom.set(target, node);
        queue.push(target);
      }
    }
  }
  return [start];
}
