import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './repo-root.js';

/** The project's documentation: README.md, then every Markdown file under docs/ (guides included). */

export function documentationFiles(): string[] {
  const docs = readdirSync(join(REPO_ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.md'))
    .map((file) => join('docs', file))
    .sort();
  return ['README.md', ...docs];
}

export function readDocument(file: string): string {
  return readFileSync(join(REPO_ROOT, file), 'utf8');
}

/** Every document's text, one after the other: what "documented" means for a key, a code or a variable. */
export function allDocumentation(): string {
  return documentationFiles().map(readDocument).join('\n');
}

/** The relative Markdown links of a document (`[text](docs/x.md)`), as paths from the repository root. */
export function localLinks(file: string): string[] {
  const text = readDocument(file);
  const base = join(REPO_ROOT, file, '..');
  return [...text.matchAll(/\]\(([^)#\s]+\.md)(?:#[^)]*)?\)/g)].map((match) =>
    relative(REPO_ROOT, join(base, match[1] ?? '')),
  );
}
