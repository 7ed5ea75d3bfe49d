import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, CLI } from './drouter-process.js';
import { REPO_ROOT } from './repo-root.js';
import { readDocument } from './documentation.js';

/**
 * Runs a guide of docs/guides/ as its reader would, so that a guide cannot
 * rot. A guide marks its blocks by the fence's info string (the first word
 * stays the language, which is all GitHub reads):
 *
 * - `sh site`: the reader's own values (`export NAME=value` lines); the test
 *   gives its own for exactly these names, and fails on a name it does not give;
 * - `sh run`: commands, run in order by bash (`-euo pipefail`), in the
 *   repository, with `drouter` on the PATH and the site's values in the environment;
 * - `sql run`: statements, fed to the database's client (`sqlite3 FILE`, `mariadb DB`);
 * - `text output`: what the block before it prints: each line, in order,
 *   must be a line of the output (other lines may come between), `…` standing
 *   for any text within a line (a time, a port).
 *
 * Any other block is shown, not run: the guide says why.
 */

export type BlockKind = 'site' | 'sh' | 'sql' | 'output';

export interface GuideBlock {
  kind: BlockKind;
  text: string;
  /** 1-based line of the opening fence, for messages. */
  line: number;
}

const MARKED: Readonly<Record<string, BlockKind>> = {
  'sh site': 'site',
  'sh run': 'sh',
  'sql run': 'sql',
  'text output': 'output',
};

/** The marked blocks of a guide, in order. */
export function guideBlocks(file: string): GuideBlock[] {
  const lines = readDocument(file).split('\n');
  const blocks: GuideBlock[] = [];
  for (let index = 0; index < lines.length; index++) {
    const fence = /^```(.*)$/.exec(lines[index] ?? '');
    if (!fence) continue;
    const end = lines.findIndex((line, at) => at > index && line === '```');
    if (end < 0) throw new Error(`${file}:${index + 1}: a code block that is never closed`);
    const kind = MARKED[(fence[1] ?? '').trim()];
    if (kind) blocks.push({ kind, text: lines.slice(index + 1, end).join('\n'), line: index + 1 });
    index = end;
  }
  return blocks;
}

/** Every block of a guide whose fence's info string is `info` (`yaml`, `ini` …): the snippets it shows but cannot run here. */
export function shownBlocks(file: string, info: string): string[] {
  return [...readDocument(file).matchAll(/^```(.*)\n([\s\S]*?)^```$/gm)]
    .filter((match) => match[1]?.trim() === info)
    .map((match) => match[2] ?? '');
}

/** The names a `sh site` block sets; a line that sets none is an error. */
export function siteNames(block: GuideBlock): string[] {
  return block.text.split('\n').flatMap((line, index) => {
    const code = line.replace(/#.*/, '').trim();
    if (code === '') return [];
    const name = /^(?:export\s+)?([A-Z_][A-Z0-9_]*)=/.exec(code)?.[1];
    if (!name)
      throw new Error(`line ${block.line + 1 + index} of the site block is not NAME=value: ${JSON.stringify(line)}`);
    return [name];
  });
}

export interface GuideRun {
  /** The site's values, one per name of the guide's `sh site` block. */
  site: Readonly<Record<string, string>>;
  /** The database client the `sql run` blocks go to, as argv (`['sqlite3', file]`). */
  sqlClient?: readonly string[];
}

export interface Step {
  block: GuideBlock;
  output: string;
}

interface Finished {
  code: number | null;
  output: string;
}

function run(argv: readonly string[], input: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Finished> {
  const [command = '', ...args] = argv;
  return new Promise((resolve, reject) => {
    // stderr into the same pipe, so the output keeps the order the reader sees.
    const child = spawn('bash', ['-c', 'exec 2>&1; exec "$@"', 'guide', command, ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ['pipe', 'pipe', 'inherit'],
      timeout: timeoutMs,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(input);
  });
}

/** `…` matches any text within a line; the rest is literal. */
function linePattern(expected: string): RegExp {
  const literal = expected
    .trimEnd()
    .split('…')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${literal.join('.*')}$`);
}

/** Where the shown output departs from the real one, or undefined when every shown line is there, in order. */
export function outputMismatch(shown: string, actual: string): string | undefined {
  const lines = actual.split('\n').map((line) => line.trimEnd());
  let at = 0;
  for (const expected of shown.split('\n')) {
    const pattern = linePattern(expected);
    const found = lines.findIndex((line, index) => index >= at && pattern.test(line));
    if (found < 0) return `the line ${JSON.stringify(expected)} is not in the output (after line ${at}):\n${actual}`;
    at = found + 1;
  }
  return undefined;
}

/**
 * Runs every marked block of `file` in order; throws at the first block that
 * fails or output that differs, naming the guide's line. Returns what each
 * block printed, for the test to read the state back.
 */
export async function runGuide(file: string, options: GuideRun, timeoutMs = 30_000): Promise<Step[]> {
  const blocks = guideBlocks(file);
  const sites = blocks.filter((block) => block.kind === 'site');
  const names = sites.flatMap(siteNames).sort();
  const given = Object.keys(options.site).sort();
  if (names.join() !== given.join())
    throw new Error(
      `${file}: its site block sets ${names.join(', ') || 'nothing'}; the test gives ${given.join(', ') || 'nothing'}`,
    );

  // `drouter` as the reader has it after `npm link`: the built CLI.
  const bin = mkdtempSync(join(tmpdir(), 'drouter-guide-bin-'));
  writeFileSync(join(bin, 'drouter'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`);
  chmodSync(join(bin, 'drouter'), 0o755);
  // Our environment without DROUTER_ settings (the guide sets what it needs), `drouter` first on the PATH, the site's values.
  const env = childEnv({ PATH: `${bin}:${process.env.PATH ?? ''}`, ...options.site });
  const steps: Step[] = [];
  try {
    for (const block of blocks) {
      const where = `${file}:${block.line}`;
      if (block.kind === 'site') continue;
      if (block.kind === 'output') {
        const last = steps.at(-1);
        if (!last) throw new Error(`${where}: an output block before any command`);
        const mismatch = outputMismatch(block.text, last.output);
        if (mismatch)
          throw new Error(
            `${where}: the output shown differs from the output of the block at line ${last.block.line}: ${mismatch}`,
          );
        continue;
      }
      if (block.kind === 'sql' && !options.sqlClient)
        throw new Error(`${where}: an sql block, and the test gives no database client`);
      const argv = block.kind === 'sql' ? (options.sqlClient ?? []) : ['bash', '-euo', 'pipefail', '-c', block.text];
      const finished = await run(argv, block.kind === 'sql' ? block.text : '', env, timeoutMs);
      if (finished.code !== 0)
        throw new Error(`${where}: exit ${finished.code}:\n${block.text}\n--- output:\n${finished.output}`);
      steps.push({ block, output: finished.output });
    }
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
  return steps;
}

/** The client a reader opens on the database of `url`, as argv: `sqlite3 FILE`, or `mariadb` with the URL's host, port, user and database. */
export function databaseClient(url: string): string[] {
  // -bail: stop at the first failing statement with a non-zero exit, as the mariadb client does in batch mode.
  if (url.startsWith('sqlite:')) return ['sqlite3', '-bail', url.slice('sqlite:'.length)];
  const parsed = new URL(url);
  const password = parsed.password === '' ? [] : [`--password=${decodeURIComponent(parsed.password)}`];
  return [
    'mariadb',
    '--host',
    parsed.hostname,
    '--port',
    parsed.port || '3306',
    '--user',
    decodeURIComponent(parsed.username),
    ...password,
    parsed.pathname.slice(1),
  ];
}

/**
 * '' where a guide's SQL can run on `kind` here, else why not: the
 * database's client (`sqlite3`, `mariadb`) is missing. A missing mariadb
 * client with DROUTER_TEST_MYSQL_URL set, or a missing sqlite3 with
 * DROUTER_TEST_SQLITE3 set (as CI sets it), is a failure, never a skip.
 */
export function clientMissing(kind: 'sqlite' | 'mysql'): string {
  const [client, packageName, variable] =
    kind === 'sqlite'
      ? ['sqlite3', 'sqlite3', 'DROUTER_TEST_SQLITE3']
      : ['mariadb', 'mariadb-client', 'DROUTER_TEST_MYSQL_URL'];
  if (spawnSync(client, ['--version']).error === undefined) return '';
  const why = `the ${client} client is not installed (apt-get install ${packageName})`;
  if (process.env[variable]) throw new Error(`${variable} is set but ${why}`);
  return why;
}
