import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseKind, ScratchDatabase } from './databases.js';
import { OPENSIPS_DIR } from './opensips/opensips-process.js';
import { execSql } from './sqlite-file.js';

/**
 * The projects' own DDL, applied as it is from where it is installed, never
 * copied into this repository (docs/schema.md "An operator's database"): OpenSIPS
 * 3.5.9's from its built tree (DROUTER_TEST_OPENSIPS_DIR/scripts/mysql and
 * scripts/sqlite), Kamailio 5.6's from where Debian's kamailio-mysql-modules
 * and kamailio-sqlite-modules install it. Asterisk is not packaged in
 * Debian: sql/04-sippeers.sql, written from its alembic migrations column
 * for column, stands in on MariaDB; Asterisk has no SQLite DDL, so on
 * SQLite `drouter migrate` makes the table (the same columns).
 */

/** Each project's files for one database: `version`, then the drouting tables. */
const DDL_FILES = ['standard-create.sql', 'drouting-create.sql'];
const OPENSIPS_SCRIPTS: Record<DatabaseKind['name'], string> = { mysql: 'mysql', sqlite: 'sqlite' };
const KAMAILIO_DIRS: Record<DatabaseKind['name'], string> = {
  mysql: '/usr/share/kamailio/mysql',
  sqlite: '/usr/share/kamailio/db_sqlite',
};

export const STANDIN_SIPPEERS_SQL = join(import.meta.dirname, '..', '..', 'sql', '04-sippeers.sql');

/** Why files cannot be read here ('' when they can); a failure instead when the variable `required` is set. */
function missingFiles(files: readonly string[], required: string, what: string): string {
  const missing = files.filter((file) => !existsSync(file));
  if (missing.length === 0) return '';
  const reason = `${what}: ${missing.join(', ')} not found`;
  if (process.env[required]) throw new Error(`${required} is set but ${reason}`);
  return reason;
}

/** Why OpenSIPS's DDL cannot be applied here ('' when it can); with DROUTER_TEST_OPENSIPS set (CI), a failure. */
export function opensipsDdlMissing(): string {
  if (!OPENSIPS_DIR)
    return missingFiles(['DROUTER_TEST_OPENSIPS_DIR'], 'DROUTER_TEST_OPENSIPS', 'no built OpenSIPS tree');
  const files = Object.values(OPENSIPS_SCRIPTS).flatMap((dir) =>
    DDL_FILES.map((file) => join(OPENSIPS_DIR ?? '', 'scripts', dir, file)),
  );
  return missingFiles(files, 'DROUTER_TEST_OPENSIPS', "OpenSIPS 3.5.9's DDL");
}

/** Why Kamailio's DDL cannot be applied here ('' when it can); with DROUTER_TEST_KAMAILIO_SCHEMA set (CI), a failure. */
export function kamailioDdlMissing(): string {
  const files = Object.values(KAMAILIO_DIRS).flatMap((dir) => DDL_FILES.map((file) => join(dir, file)));
  return missingFiles(
    files,
    'DROUTER_TEST_KAMAILIO_SCHEMA',
    "Kamailio 5.6's DDL (apt-get install kamailio-mysql-modules kamailio-sqlite-modules)",
  );
}

/** Runs a whole SQL file (several statements) as an operator's client would. */
export async function applySqlFile(kind: DatabaseKind, db: ScratchDatabase, file: string): Promise<void> {
  const sql = readFileSync(file, 'utf8');
  if (kind.name === 'mysql') await db.exec(sql);
  else execSql(db.url.slice('sqlite:'.length), sql);
}

/** OpenSIPS 3.5.9's `version` and drouting tables, from its own DDL for this database. */
export async function applyOpensipsDdl(kind: DatabaseKind, db: ScratchDatabase): Promise<void> {
  if (!OPENSIPS_DIR)
    throw new Error('applyOpensipsDdl: DROUTER_TEST_OPENSIPS_DIR is not set (check opensipsDdlMissing() first)');
  for (const file of DDL_FILES)
    await applySqlFile(kind, db, join(OPENSIPS_DIR, 'scripts', OPENSIPS_SCRIPTS[kind.name], file));
}

/** Kamailio 5.6's `version` and drouting tables, from its own DDL for this database. */
export async function applyKamailioDdl(kind: DatabaseKind, db: ScratchDatabase): Promise<void> {
  for (const file of DDL_FILES) await applySqlFile(kind, db, join(KAMAILIO_DIRS[kind.name], file));
}
