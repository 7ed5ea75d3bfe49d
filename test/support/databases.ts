import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';

/**
 * Real databases for the store tests: a fresh SQLite file always, and a
 * fresh MariaDB database when DROUTER_TEST_MYSQL_URL is set. Set but
 * unreachable is a failure, never a skip.
 */

export interface ScratchDatabase {
  url: string;
  /** Runs SQL directly, around the code under test (to plant bad rows). */
  exec(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
}

export interface DatabaseKind {
  name: 'sqlite' | 'mysql';
  create(label: string): Promise<ScratchDatabase>;
}

export const MYSQL_TEST_URL = process.env.DROUTER_TEST_MYSQL_URL;

export function databaseKinds(): DatabaseKind[] {
  const kinds: DatabaseKind[] = [{ name: 'sqlite', create: createSqliteDatabase }];
  if (MYSQL_TEST_URL) kinds.push({ name: 'mysql', create: (label) => createMysqlDatabase(MYSQL_TEST_URL, label) });
  return kinds;
}

async function createSqliteDatabase(label: string): Promise<ScratchDatabase> {
  const dir = mkdtempSync(join(tmpdir(), `drouter-${label}-`));
  const file = join(dir, 'store.db');
  const { default: Database } = await import('better-sqlite3');
  return {
    url: `sqlite:${file}`,
    async exec(sql, params = []) {
      const db = new Database(file);
      try {
        const statement = db.prepare(sql);
        return statement.reader
          ? (statement.all(...params) as Record<string, unknown>[])
          : (statement.run(...params), []);
      } finally {
        db.close();
      }
    },
    async drop() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Connection options of a mysql:// URL, optionally for another database. */
export function mysqlOptions(url: string, database?: string): mysql.ConnectionOptions {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 3306,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database: database ?? parsed.pathname.slice(1),
    multipleStatements: true,
  };
}

export function mysqlUrlFor(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function createMysqlDatabase(baseUrl: string, label: string): Promise<ScratchDatabase> {
  const base = new URL(baseUrl).pathname.slice(1);
  const database = `${base}_${label}_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  const admin = await mysql.createConnection(mysqlOptions(baseUrl));
  await admin.query(`CREATE DATABASE \`${database}\``);
  await admin.end();
  const connection = await mysql.createConnection(mysqlOptions(baseUrl, database));
  return {
    url: mysqlUrlFor(baseUrl, database),
    async exec(sql, params = []) {
      const [rows] = await connection.query(sql, params);
      return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
    },
    async drop() {
      await connection.query(`DROP DATABASE \`${database}\``);
      await connection.end();
    },
  };
}
