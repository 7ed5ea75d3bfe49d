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
 * Pure logic: data in, data out. A folder (or single file) listed here is
 * pure, except its `*-service.ts` files: the one service of a component
 * that does the I/O around its pure core.
 */
export const PURE_PATHS = [
  'src/model/',
  'src/defence/',
  'src/routing/',
  'src/registrar/',
  'src/probe/',
  'src/sip/uri.ts',
  'src/sip/request-sanity.ts',
  'src/sip/reason-phrases.ts',
  'src/sip/raw-request-check.ts',
  'src/sip/max-forwards.ts',
  'src/sip/endpoint.ts',
  'src/proxy/failover-policy.ts',
  'src/proxy/loose-routing.ts',
  'src/proxy/dialog-token.ts',
  'src/proxy/node-relay.ts',
  'src/detached-string.ts',
  'src/security-log/asterisk-lines.ts',
  'src/sip/drachtio/proxy-ledger.ts',
  'src/sip/drachtio/hostports.ts',
  'src/cluster/message-owner.ts',
  'src/cluster/handoff-frame.ts',
  'src/cluster/restart-backoff.ts',
  'src/cluster/workers-config.ts',
];

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
  return PURE_PATHS.some((pure) => path.startsWith(pure)) && !path.endsWith('-service.ts');
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
