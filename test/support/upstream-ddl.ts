import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseKind, ScratchDatabase } from './databases.js';
import { OPENSIPS_DIR } from './opensips/opensips-process.js';
import { execSql } from './sqlite-file.js';

/**
 * The projects' own DDL, applied as it is from where it is installed, never
 * copied into this repository (README "An operator's database"): OpenSIPS
 * 3.5.9's from its built tree (DROUTER_TEST_OPENSIPS_DIR/scripts/mysql and
 * scripts/sqlite). Asterisk is not packaged in Debian: sql/04-sippeers.sql,
 * written from its alembic migrations column for column, stands in on
 * MariaDB; Asterisk has no SQLite DDL, so on SQLite `drouter migrate` makes
 * the table (the same columns).
 */

/** OpenSIPS's files for one database: `version`, then the drouting tables. */
const OPENSIPS_FILES = ['standard-create.sql', 'drouting-create.sql'];
const OPENSIPS_SCRIPTS: Record<DatabaseKind['name'], string> = { mysql: 'mysql', sqlite: 'sqlite' };

export const STANDIN_SIPPEERS_SQL = join(import.meta.dirname, '..', '..', 'sql', '04-sippeers.sql');

/**
 * Why OpenSIPS's DDL cannot be applied here ('' when it can). With
 * DROUTER_TEST_OPENSIPS set (CI) a missing tree is a failure, not a reason.
 */
export function opensipsDdlMissing(): string {
  const files = OPENSIPS_DIR ? Object.values(OPENSIPS_SCRIPTS).flatMap((dir) => OPENSIPS_FILES.map((file) => join(OPENSIPS_DIR ?? '', 'scripts', dir, file))) : [];
  const missing = OPENSIPS_DIR ? files.filter((file) => !existsSync(file)) : ['DROUTER_TEST_OPENSIPS_DIR'];
  if (missing.length === 0) return '';
  const reason = `OpenSIPS 3.5.9's DDL: ${missing.join(', ')} not found`;
  if (process.env.DROUTER_TEST_OPENSIPS) throw new Error(`DROUTER_TEST_OPENSIPS is set but ${reason}`);
  return reason;
}

/** Runs a whole SQL file (several statements) as an operator's client would. */
export async function applySqlFile(kind: DatabaseKind, db: ScratchDatabase, file: string): Promise<void> {
  const sql = readFileSync(file, 'utf8');
  if (kind.name === 'mysql') await db.exec(sql);
  else execSql(db.url.slice('sqlite:'.length), sql);
}

/** OpenSIPS 3.5.9's `version` and drouting tables, from its own DDL for this database. */
export async function applyOpensipsDdl(kind: DatabaseKind, db: ScratchDatabase): Promise<void> {
  if (!OPENSIPS_DIR) throw new Error('applyOpensipsDdl: DROUTER_TEST_OPENSIPS_DIR is not set (check opensipsDdlMissing() first)');
  for (const file of OPENSIPS_FILES) await applySqlFile(kind, db, join(OPENSIPS_DIR, 'scripts', OPENSIPS_SCRIPTS[kind.name], file));
}
