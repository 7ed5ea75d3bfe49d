import type { Knex } from 'knex';
import { RowError, SchemaMissingError, StoreUnreachableError } from '../../errors.js';
import { decodeRows } from '../../model/decode-rows.js';
import { drCarriersTable, drGatewaysTable, drGroupsTable, drGwListsTable, drRulesTable } from '../../model/drouting-tables.js';
import { type RegistrationColumns, type SipPeerRow, sippeersTable } from '../../model/sippeers-table.js';
import type { TableSpec } from '../../model/columns.js';
import type { RoutingRows, Store } from '../store.js';
import type { KnexHandle } from './connect.js';
import { type SeedSummary, seedExample } from './seed.js';

/** The Store port over knex: SQLite (better-sqlite3) or MySQL/MariaDB (mysql2). */
export class KnexStore implements Store {
  readonly displayUrl: string;
  private readonly knex: Knex;

  constructor(handle: KnexHandle) {
    this.knex = handle.knex;
    this.displayUrl = handle.displayUrl;
  }

  async ping(): Promise<void> {
    await this.guard(() => this.knex.raw('select 1'));
  }

  async loadRoutingRows(): Promise<RoutingRows> {
    const [gateways, rules, carriers, groups, gwLists] = await Promise.all([
      this.readTable(drGatewaysTable),
      this.readTable(drRulesTable),
      this.readTable(drCarriersTable),
      this.readTable(drGroupsTable),
      this.readTable(drGwListsTable),
    ]);
    return {
      gateways: gateways.rows,
      rules: rules.rows,
      carriers: carriers.rows,
      groups: groups.rows,
      gwLists: gwLists.rows,
      problems: [gateways, rules, carriers, groups, gwLists].flatMap((decoded) => decoded.problems),
    };
  }

  async findPeerByName(name: string): Promise<SipPeerRow | undefined> {
    const records = await this.guard(() => this.knex(sippeersTable.name).where({ name }).limit(1));
    const { rows, problems } = decodeRows(sippeersTable, records);
    if (problems.length > 0) throw new RowError(problems);
    return rows[0];
  }

  async writeRegistration(name: string, columns: Partial<RegistrationColumns>): Promise<boolean> {
    const updated = await this.guard(() => this.knex(sippeersTable.name).where({ name }).update(columns));
    return updated > 0;
  }

  async countPeers(): Promise<number> {
    const [row] = await this.guard(() => this.knex(sippeersTable.name).count({ count: '*' }));
    return Number(row?.count ?? 0);
  }

  /** Loads the example data into empty tables (see seed.ts). */
  seedExample(): Promise<SeedSummary> {
    return this.guard(() => seedExample(this.knex));
  }

  async close(): Promise<void> {
    await this.knex.destroy();
  }

  private async readTable<T extends TableSpec>(table: T) {
    const records = await this.guard(() => this.knex(table.name).select('*').orderBy(table.keyColumn));
    return decodeRows(table, records);
  }

  /** Turns a driver's connection failure into the typed error naming the URL. */
  private async guard<R>(query: () => Promise<R>): Promise<R> {
    try {
      return await query();
    } catch (error) {
      if (isConnectionFailure(error)) throw new StoreUnreachableError(this.displayUrl, error);
      if (isMissingTable(error)) throw new SchemaMissingError(this.displayUrl, (error as Error).message);
      throw error;
    }
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
