import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { redactUrlPassword, StoreUnreachableError, StoreUrlError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { knexLog } from './driver-log.js';

export type Dialect = 'sqlite' | 'mysql';

export interface KnexHandle {
  knex: Knex;
  dialect: Dialect;
  displayUrl: string;
  /** The SQLite database file; undefined for MySQL and for SQLite's :memory:. */
  sqliteFile: string | undefined;
}

const CONNECT_TIMEOUT_MS = 5000;

/**
 * SQLite in WAL mode: a registration's write-back costs one sync of the log
 * instead of the rollback journal's several (the REGISTER benchmark spent
 * 60 % of its time there), and the CLI reads while the proxy writes.
 * `synchronous` is FULL, so a committed write survives a power cut.
 */
function useWriteAheadLog(
  connection: { pragma(source: string): unknown },
  done: (error: Error | null, connection: unknown) => void,
): void {
  try {
    connection.pragma('journal_mode = WAL');
    // better-sqlite3's build defaults WAL connections to NORMAL, which may lose the last commits on a power cut.
    connection.pragma('synchronous = FULL');
    done(null, connection);
  } catch (error) {
    done(error as Error, connection);
  }
}

/** Builds the knex configuration for a `sqlite:PATH` or `mysql://…` URL; knex's own messages go to `log` when given. */
export function knexConfigFor(url: string, log?: Logger): { dialect: Dialect; config: Knex.Config } {
  if (url.startsWith('sqlite:')) {
    const filename = url.slice('sqlite:'.length);
    return {
      dialect: 'sqlite',
      config: {
        client: 'better-sqlite3',
        connection: { filename },
        useNullAsDefault: true,
        log: knexLog(log),
        pool: { afterCreate: useWriteAheadLog },
      },
    };
  }
  const parsed = new URL(url);
  if (parsed.protocol !== 'mysql:')
    throw new StoreUrlError(redactUrlPassword(url), 'the scheme must be sqlite: or mysql://');
  return {
    dialect: 'mysql',
    config: {
      client: 'mysql2',
      connection: {
        host: parsed.hostname,
        port: parsed.port === '' ? 3306 : Number(parsed.port),
        user: decodeURIComponent(parsed.username),
        password: decodeURIComponent(parsed.password),
        database: decodeURIComponent(parsed.pathname.slice(1)),
        connectTimeout: CONNECT_TIMEOUT_MS,
      },
      pool: { min: 0, max: 10 },
      acquireConnectionTimeout: CONNECT_TIMEOUT_MS,
      log: knexLog(log),
    },
  };
}

/**
 * Opens the database and checks that it answers. An unreachable server, a
 * wrong password or an unwritable SQLite file all become
 * StoreUnreachableError naming the URL with its password hidden. knex's
 * own warnings go to `log` when given (see knexLog).
 */
export async function openKnex(url: string, log?: Logger): Promise<KnexHandle> {
  const displayUrl = redactUrlPassword(url);
  const { dialect, config } = knexConfigFor(url, log);
  if (dialect === 'sqlite') ensureParentDirectory(url.slice('sqlite:'.length), displayUrl);
  const knex = knexFactory(config);
  try {
    await knex.raw('select 1');
  } catch (error) {
    await knex.destroy();
    throw new StoreUnreachableError(displayUrl, error);
  }
  const sqliteFile = dialect === 'sqlite' && url !== 'sqlite::memory:' ? url.slice('sqlite:'.length) : undefined;
  return { knex, dialect, displayUrl, sqliteFile };
}

function ensureParentDirectory(filename: string, displayUrl: string): void {
  if (filename === ':memory:') return;
  try {
    mkdirSync(dirname(filename), { recursive: true });
  } catch (error) {
    throw new StoreUnreachableError(displayUrl, error);
  }
}
