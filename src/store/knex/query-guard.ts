import { SchemaError, StoreUnreachableError } from '../../errors.js';

/** Runs a query, turning a driver's connection failure into the typed error naming the URL, and a missing table into SchemaError. */
export async function guardStoreQuery<R>(displayUrl: string, query: () => Promise<R>): Promise<R> {
  try {
    return await query();
  } catch (error) {
    if (isConnectionFailure(error)) throw new StoreUnreachableError(displayUrl, error);
    // A table dropped since the layout was read.
    if (isMissingTable(error)) throw new SchemaError(displayUrl, [{ table: missingTableName(error as Error) }]);
    throw error;
  }
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'PROTOCOL_CONNECTION_LOST',
  'ER_ACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'SQLITE_CANTOPEN',
]);

function isConnectionFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) return true;
  return error instanceof Error && error.name === 'KnexTimeoutError';
}

function isMissingTable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (error as { code?: unknown }).code === 'ER_NO_SUCH_TABLE' || /no such table/.test(error.message);
}

/** `no such table: dr_rules` (SQLite), `Table 'db.dr_rules' doesn't exist` (MariaDB); else the whole message. */
function missingTableName(error: Error): string {
  return (
    /no such table: (\S+)/.exec(error.message)?.[1] ??
    /Table '(?:[^'.]*\.)?([^']+)' doesn't exist/.exec(error.message)?.[1] ??
    error.message
  );
}
