import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ALL_TABLES } from '../../src/core/model/tables.js';
import { prepareStore } from '../../src/store/knex/open-store.js';
import { databaseKinds, type ScratchDatabase } from '../support/databases.js';
import { describeUnless, mysqlMissing } from '../support/skip-reason.js';

const SQL_DIR = join(import.meta.dirname, '..', '..', 'sql');
const mysqlKind = databaseKinds().find((kind) => kind.name === 'mysql');

/** Applies the SQL files with the `mariadb` command-line client, as an operator would. */
function applyWithClient(url: string, file: string): void {
  const parsed = new URL(url);
  const args = ['-h', parsed.hostname, '-P', parsed.port || '3306', '-u', decodeURIComponent(parsed.username)];
  if (parsed.password) args.push(`-p${decodeURIComponent(parsed.password)}`);
  args.push(parsed.pathname.slice(1));
  execFileSync('mariadb', args, { input: readFileSync(file), stdio: ['pipe', 'pipe', 'pipe'] });
}

/** A row of information_schema.COLUMNS, the columns the tests read. */
type ColumnRow = Record<string, unknown> & { TABLE_NAME: string; COLUMN_NAME: string; COLUMN_TYPE: string };

async function columnsOf(db: ScratchDatabase): Promise<ColumnRow[]> {
  return (await db.exec(
    `SELECT TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> 'drouter_migrations'
         AND TABLE_NAME <> 'drouter_migrations_lock'
      ORDER BY TABLE_NAME, ORDINAL_POSITION`,
  )) as ColumnRow[];
}

async function indexesOf(db: ScratchDatabase) {
  return db.exec(
    `SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE
       FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT LIKE 'drouter_migrations%'
      ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
  );
}

// Runs only where a MariaDB is configured; with the variable set and the
// server down, beforeAll fails and so does every test here.
describeUnless(mysqlMissing())('sql/*.sql against the migrations on MariaDB', () => {
  let fromSqlFiles: ScratchDatabase;
  let fromMigrations: ScratchDatabase;

  beforeAll(async () => {
    if (!mysqlKind) throw new Error('DROUTER_TEST_MYSQL_URL is set but no mysql database kind was built');
    fromSqlFiles = await mysqlKind.create('sqlfiles');
    fromMigrations = await mysqlKind.create('migrations');
    for (const file of readdirSync(SQL_DIR)
      .filter((f) => f.endsWith('.sql'))
      .sort()) {
      applyWithClient(fromSqlFiles.url, join(SQL_DIR, file));
    }
    const { store } = await prepareStore(fromMigrations.url, { seedExample: false });
    await store.close();
  });

  afterAll(async () => {
    await fromSqlFiles?.drop();
    await fromMigrations?.drop();
  });

  it('create the same columns, types, nullability and defaults', async () => {
    const expected = await columnsOf(fromSqlFiles);
    expect(expected.length).toBeGreaterThan(100);
    expect(await columnsOf(fromMigrations)).toEqual(expected);
  });

  it('create the same unique constraints and indexes', async () => {
    const expected = await indexesOf(fromSqlFiles);
    expect(expected.map((row) => row.INDEX_NAME)).toContain('dr_gw_idx');
    expect(await indexesOf(fromMigrations)).toEqual(expected);
  });

  it('write the same version rows', async () => {
    const query = 'SELECT table_name, table_version FROM version ORDER BY table_name';
    const expected = await fromSqlFiles.exec(query);
    expect(expected).toHaveLength(6);
    expect(await fromMigrations.exec(query)).toEqual(expected);
  });

  it('match the column list the row decoder checks, type for type', async () => {
    const actual = (await columnsOf(fromSqlFiles)).map(
      (row) => `${row.TABLE_NAME}.${row.COLUMN_NAME} ${row.COLUMN_TYPE}`,
    );
    const described = ALL_TABLES.flatMap((table) =>
      table.columns.map((column) => `${table.name}.${column.name} ${column.mysqlType}`),
    );
    expect([...actual].sort()).toEqual([...described].sort());
  });
});
