// @ts-check
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/*
 * The SQLite writer thread (see sqlite-writer.ts). It has its own
 * connection, so a commit's sync waits here instead of stalling the SIP
 * event loop. Plain JavaScript, so the same file runs from src under the
 * tests and from dist.
 *
 * In:  { batch, writes: [{ name, columns, expiredBy? }] }, one transaction per batch.
 * Out: { batch, updated: boolean[] } or { batch, error: { message, code } }.
 */

// workerData is `any`: held as `unknown`, then cast to what sqlite-writer.ts sends.
/** @type {unknown} */
const data = workerData;
const { filename, table, columnNames } = /** @type {{ filename: string, table: string, columnNames: string[] }} */ (
  data
);
const allowed = new Set(columnNames);
const db = new Database(filename, { timeout: 5000 });
db.pragma('journal_mode = WAL');
// As on the main connection (connect.ts): every commit synced.
db.pragma('synchronous = FULL');

/** @type {Map<string, import('better-sqlite3').Statement>} */
const updates = new Map();

/**
 * @param {string[]} names
 * @param {boolean} onlyExpired the row's regseconds must be at most a bound
 */
function updateStatement(names, onlyExpired) {
  const key = `${names.join(',')}${onlyExpired ? '/expired' : ''}`;
  let statement = updates.get(key);
  if (!statement) {
    if (names.length === 0) throw new Error(`an update of ${table} needs at least one column`);
    const unknown = names.find((name) => !allowed.has(name));
    if (unknown !== undefined) throw new Error(`${table} has no registration column ${JSON.stringify(unknown)}`);
    statement = db.prepare(
      `UPDATE "${table}" SET ${names.map((name) => `"${name}" = ?`).join(', ')} WHERE name = ?${onlyExpired ? ' AND regseconds <= ?' : ''}`,
    );
    updates.set(key, statement);
  }
  return statement;
}

const writeBatch = db.transaction(
  /** @param {{ name: string, columns: Record<string, unknown>, expiredBy?: number }[]} writes */
  (writes) =>
    writes.map(({ name, columns, expiredBy }) => {
      const names = Object.keys(columns)
        .filter((column) => columns[column] !== undefined)
        .sort();
      const bound = expiredBy === undefined ? [] : [expiredBy];
      return (
        updateStatement(names, expiredBy !== undefined).run(...names.map((column) => columns[column]), name, ...bound)
          .changes > 0
      );
    }),
);

parentPort?.on(
  'message',
  (
    /** @type {{ batch: number, writes: { name: string, columns: Record<string, unknown>, expiredBy?: number }[] }} */ {
      batch,
      writes,
    },
  ) => {
    try {
      parentPort?.postMessage({ batch, updated: writeBatch(writes) });
    } catch (error) {
      const { message, code } = /** @type {{ message?: string, code?: string }} */ (error);
      parentPort?.postMessage({ batch, error: { message: String(message), code } });
    }
  },
);
