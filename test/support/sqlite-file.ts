import Database from 'better-sqlite3';

/** Runs SQL on a test's SQLite file through a connection of its own, closed again (as an operator's edit would be). */
export function execSql(file: string, statement: string): void {
  const db = new Database(file);
  try {
    db.exec(statement);
  } finally {
    db.close();
  }
}
