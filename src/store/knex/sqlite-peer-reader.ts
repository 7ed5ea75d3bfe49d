import Database from 'better-sqlite3';
import { PEER_COLUMN_NAMES, sippeersTable } from '../../core/model/sippeers-table.js';

/**
 * `sippeers` rows by name (the registrar's columns) on a SQLite file, from
 * a read-only connection of its own with the statement prepared once.
 * Through knex every lookup built the query and prepared it again: a sixth
 * of the REGISTER benchmark's time. The write-ahead log lets it read while the writer
 * thread commits.
 */
export class SqlitePeerReader {
  private readonly db: Database.Database;
  private readonly byName: Database.Statement<[string], Record<string, unknown>>;

  /** Throws SQLite's error (no such table, cannot open) as it is, for the store to classify. */
  constructor(file: string) {
    this.db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const columns = PEER_COLUMN_NAMES.map((column) => `"${column}"`).join(', ');
      this.byName = this.db.prepare(`SELECT ${columns} FROM "${sippeersTable.name}" WHERE name = ? LIMIT 1`);
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  /** The matching row as the driver gives it: none or one. */
  rowsNamed(name: string): Record<string, unknown>[] {
    const row = this.byName.get(name);
    return row ? [row] : [];
  }

  close(): void {
    this.db.close();
  }
}
