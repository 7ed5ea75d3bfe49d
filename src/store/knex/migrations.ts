import type { Knex } from 'knex';
import { ALL_TABLES } from '../../core/model/tables.js';
import type { ColumnSpec, TableSpec } from '../../core/model/columns.js';
import { versionTable } from '../../core/model/drouting-tables.js';
import type { Dialect } from './connect.js';
import { connectionPool } from './pooled-connection.js';
import { errorMessage } from '../../errors.js';

/**
 * Schema migrations, kept in code (not files) so they run the same from
 * src/ under the tests and from dist/ in production. Tables that already
 * exist are left alone: an operator's OpenSIPS or Asterisk tables are used
 * as they are. They run on `drouter migrate`, and at start only on a new
 * database or one they ran on before (open-store.ts).
 */

/** knex's bookkeeping: its presence marks a database whose schema sip-drouter manages. */
export const MIGRATIONS_TABLE = 'drouter_migrations';

interface Migration {
  name: string;
  up(knex: Knex, dialect: Dialect): Promise<void>;
}

/** Every table of ALL_TABLES that the database lacks, and their `version` rows. */
async function createMissingTables(knex: Knex, dialect: Dialect): Promise<void> {
  for (const table of ALL_TABLES) {
    if (!(await knex.schema.hasTable(table.name))) await createTable(knex, dialect, table);
  }
  await insertMissingVersions(knex);
}

const MIGRATIONS: readonly Migration[] = [
  { name: '001_opensips_drouting_and_asterisk_sippeers', up: createMissingTables },
  // drouter_shared (the shared secret), for databases the first migration made before it existed.
  { name: '002_drouter_shared', up: createMissingTables },
  // OpenSIPS's permissions `address` table, the sources trusted without a challenge.
  { name: '003_address', up: createMissingTables },
];

async function createTable(knex: Knex, dialect: Dialect, table: TableSpec): Promise<void> {
  await knex.schema.createTable(table.name, (builder) => {
    for (const column of table.columns) addColumn(builder, dialect, column);
    for (const unique of table.uniques) builder.unique([...unique.columns], { indexName: unique.name });
    for (const index of table.indexes) builder.index([...index.columns], index.name);
  });
}

function addColumn(builder: Knex.CreateTableBuilder, dialect: Dialect, column: ColumnSpec): void {
  if (column.autoIncrement) {
    // SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid alias).
    if (dialect === 'sqlite') builder.increments(column.name);
    else builder.specificType(column.name, `${column.mysqlType} not null auto_increment primary key`);
    return;
  }
  const created = column.enumValues
    ? builder.enu(column.name, [...column.enumValues])
    : builder.specificType(column.name, dialect === 'sqlite' ? sqliteType(column) : column.mysqlType);
  if (column.defaultValue !== undefined) created.defaultTo(column.defaultValue);
  if (column.nullable) created.nullable();
  else created.notNullable();
}

/** SQLite takes `char(64)` but not `int(10) unsigned`; integers become INTEGER. */
function sqliteType(column: ColumnSpec): string {
  return column.kind === 'int' || column.kind === 'uint' ? 'integer' : column.mysqlType;
}

async function insertMissingVersions(knex: Knex): Promise<void> {
  const present = new Set(
    (await knex(versionTable.name).select('table_name')).map((row: { table_name: string }) => row.table_name),
  );
  const missing = ALL_TABLES.filter((table) => table.version !== undefined && !present.has(table.name));
  if (missing.length === 0) return;
  await knex(versionTable.name).insert(
    missing.map((table) => ({ table_name: table.name, table_version: table.version })),
  );
}

/**
 * knex insists on a down step. Ours refuses: the tables may be an operator's
 * OpenSIPS and Asterisk tables, which no rollback of ours may drop.
 */
async function refuseDown(): Promise<never> {
  throw new Error('sip-drouter migrations cannot be rolled back: drop the tables yourself if you mean to');
}

function migrationSource(dialect: Dialect): Knex.MigrationSource<Migration> {
  return {
    getMigrations: async () => [...MIGRATIONS],
    getMigrationName: (migration) => migration.name,
    getMigration: async (migration) => ({ up: (knex: Knex) => migration.up(knex, dialect), down: refuseDown }),
  };
}

/** A second node starting on a new database meanwhile: it creates knex's tables or holds the lock. */
const CONCURRENT_MIGRATION_WAIT_MS = 20_000;

/**
 * The other node of a pair is migrating the same database right now: knex
 * found its own tables missing and lost the race to create them, or found
 * the migration lock taken; or the database kept us waiting on the other's
 * transaction (SQLite's busy timeout, a MariaDB lock wait or deadlock, seen
 * on a loaded machine). Either way waiting and trying again is right.
 */
function migratingElsewhere(error: unknown): boolean {
  if ((error as { name?: unknown } | null)?.name === 'MigrationLocked') return true;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_BUSY' || code === 'ER_LOCK_WAIT_TIMEOUT' || code === 'ER_LOCK_DEADLOCK') return true;
  const message = errorMessage(error);
  return new RegExp(`${MIGRATIONS_TABLE}(_lock)?\\W* already exists`, 'i').test(message);
}

/**
 * Brings the schema up to date; returns the names of the migrations it ran.
 * Two nodes started together on a new database take turns: the second waits
 * for the first (up to CONCURRENT_MIGRATION_WAIT_MS) and then finds nothing
 * left to do.
 */
export async function migrateToLatest(knex: Knex, dialect: Dialect): Promise<string[]> {
  return dialect === 'mysql'
    ? withServerLock(knex, () => migrateWithRetries(knex, dialect))
    : migrateWithRetries(knex, dialect);
}

/**
 * On MariaDB the nodes take turns through a server lock (GET_LOCK) held on
 * one connection for the whole migration: knex's own lock is a table row
 * that knex creates with a select-then-insert, so two nodes starting
 * together could each insert one, and knex's "lock" (an UPDATE expecting one
 * row) then failed for both, for good.
 */
async function withServerLock<T>(knex: Knex, run: () => Promise<T>): Promise<T> {
  const pool = connectionPool(knex);
  const connection = await pool.acquireConnection();
  const name = `CONCAT(DATABASE(), '.${MIGRATIONS_TABLE}')`;
  try {
    const [rows] = (await knex
      .raw(`SELECT GET_LOCK(${name}, ?) AS got`, [CONCURRENT_MIGRATION_WAIT_MS / 1000])
      .connection(connection)) as [{ got: number | null }[]];
    if (rows[0]?.got !== 1)
      throw new Error(
        `another drouter held the schema migration lock (GET_LOCK ${MIGRATIONS_TABLE}) for ${CONCURRENT_MIGRATION_WAIT_MS / 1000} s`,
      );
    return await run();
  } finally {
    await knex
      .raw(`SELECT RELEASE_LOCK(${name})`)
      .connection(connection)
      .catch(() => undefined);
    await pool.releaseConnection(connection);
  }
}

async function migrateWithRetries(knex: Knex, dialect: Dialect): Promise<string[]> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      const [, ran] = (await knex.migrate.latest({
        tableName: MIGRATIONS_TABLE,
        migrationSource: migrationSource(dialect),
        // MariaDB commits at every CREATE TABLE, so knex's wrapping transaction protects nothing there,
        // and a migration that failed in it rolled back knex's own release of the lock, leaving it
        // taken for good (the other node then waited in vain). Without it the lock is freed on failure.
        disableTransactions: dialect === 'mysql',
      })) as [number, string[]];
      return ran;
    } catch (error) {
      if (!migratingElsewhere(error)) throw error;
      if (Date.now() - started > CONCURRENT_MIGRATION_WAIT_MS) {
        throw new Error(
          `the schema migration lock (${MIGRATIONS_TABLE}_lock) stayed taken for ${CONCURRENT_MIGRATION_WAIT_MS / 1000} s: another drouter is migrating this database, or one died while it did (then set is_locked = 0 in ${MIGRATIONS_TABLE}_lock)`,
          { cause: error },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * attempt, 1000)));
    }
  }
}
