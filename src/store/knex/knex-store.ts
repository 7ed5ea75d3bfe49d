import type { Knex } from 'knex';
import { RowError, type RowProblem, SchemaMissingError, StoreUnreachableError } from '../../errors.js';
import { decodeRows } from '../../model/decode-rows.js';
import { type DrRuleRow, drCarriersTable, drGatewaysTable, drGroupsTable, drGwListsTable, drRulesTable } from '../../model/drouting-tables.js';
import { PEER_COLUMN_NAMES, type PeerRow, peerColumnsOfSippeers, sippeersTable } from '../../model/sippeers-table.js';
import type { TableSpec } from '../../model/columns.js';
import type { RulePage } from '../../model/routing-rows.js';
import { GroupCommit } from '../group-commit.js';
import { type SharedValueRow, sharedValuesTable } from '../../model/shared-values-table.js';
import { type AddressRow, addressTable } from '../../model/address-table.js';
import type { RoutingRows, RoutingRowStream, SharedValueName, Store } from '../store.js';
import type { Dialect, KnexHandle } from './connect.js';
import { type SeedSummary, seedExample } from './seed.js';
import { SqlitePeerReader } from './sqlite-peer-reader.js';
import { type RegistrationWrite, SqliteWriterThread } from './sqlite-writer.js';

/** The Store port over knex: SQLite (better-sqlite3) or MySQL/MariaDB (mysql2). */
export class KnexStore implements Store {
  readonly displayUrl: string;
  private readonly knex: Knex;
  private readonly dialect: Dialect;

  /** SQLite files get their write-backs committed off the SIP thread. */
  private readonly writerThread: SqliteWriterThread | undefined;
  /** SQLite files: peer lookups on a connection of their own, opened at the first lookup. */
  private peerReader: SqlitePeerReader | undefined;
  private readonly sqliteFile: string | undefined;

  /** rtupdate's write-backs, grouped: the REGISTER benchmark's cost was one synced commit each. */
  private readonly registrationWrites = new GroupCommit<RegistrationWrite, boolean>((writes) =>
    this.guard(() => (this.writerThread ? this.writerThread.commit(writes) : this.writeInTransaction(writes))),
  );

  constructor(handle: KnexHandle) {
    this.knex = handle.knex;
    this.dialect = handle.dialect;
    this.displayUrl = handle.displayUrl;
    this.sqliteFile = handle.sqliteFile;
    this.writerThread = handle.sqliteFile === undefined ? undefined : new SqliteWriterThread(handle.sqliteFile, handle.displayUrl);
  }

  async ping(): Promise<void> {
    await this.guard(() => this.knex.raw('select 1'));
  }

  async loadRoutingRows(): Promise<RoutingRows> {
    const { rulePages, ...rest } = await this.streamRoutingRows();
    const rules: DrRuleRow[] = [];
    const problems = [...rest.problems];
    for await (const page of rulePages) {
      rules.push(...page.rows);
      problems.push(...page.problems);
    }
    return { ...rest, rules, problems };
  }

  async streamRoutingRows(): Promise<RoutingRowStream> {
    const [gateways, carriers, groups, gwLists] = await Promise.all([
      this.readTable(drGatewaysTable),
      this.readTable(drCarriersTable),
      this.readTable(drGroupsTable),
      this.readTable(drGwListsTable),
    ]);
    return {
      gateways: gateways.rows,
      carriers: carriers.rows,
      groups: groups.rows,
      gwLists: gwLists.rows,
      problems: [gateways, carriers, groups, gwLists].flatMap((decoded) => decoded.problems),
      rulePages: this.readRulePages(),
    };
  }

  /** dr_rules in ruleid order, a page at a time (keyset paging on the primary key). */
  private async *readRulePages(): AsyncGenerator<RulePage> {
    let after = -1;
    for (;;) {
      const query = this.knex(drRulesTable.name).select('*').where('ruleid', '>', after).orderBy('ruleid').limit(RULE_PAGE_SIZE);
      const records = await this.guard(() => this.runSelect(query));
      const last = records[records.length - 1];
      if (!last) return;
      yield decodeRows(drRulesTable, records);
      after = Number(last.ruleid);
      if (records.length < RULE_PAGE_SIZE) return;
    }
  }

  async findPeerByName(name: string): Promise<PeerRow | undefined> {
    const records = await this.guard(async () => {
      if (this.sqliteFile === undefined) return this.knex(sippeersTable.name).select(PEER_COLUMN_NAMES).where({ name }).limit(1);
      this.peerReader ??= new SqlitePeerReader(this.sqliteFile);
      return this.peerReader.rowsNamed(name);
    });
    const { rows, problems } = decodeRows(peerColumnsOfSippeers, records);
    if (problems.length > 0) throw new RowError(problems);
    return rows[0] as PeerRow | undefined;
  }

  writeRegistration(name: string, columns: RegistrationWrite['columns'], options: { expiredBy?: number } = {}): Promise<boolean> {
    return this.registrationWrites.submit({ name, columns, expiredBy: options.expiredBy });
  }

  private writeInTransaction(writes: readonly RegistrationWrite[]): Promise<boolean[]> {
    return this.knex.transaction(async (trx) => {
      const updated: boolean[] = [];
      for (const { name, columns, expiredBy } of writes) {
        const row = trx(sippeersTable.name).where({ name });
        if (expiredBy !== undefined) row.andWhere('regseconds', '<=', expiredBy);
        updated.push((await row.update(columns)) > 0);
      }
      return updated;
    });
  }

  async writeGatewayStates(states: ReadonlyMap<string, number>): Promise<void> {
    if (states.size === 0) return;
    await this.guard(() =>
      this.knex.transaction(async (trx) => {
        for (const [gwid, state] of states) await trx(drGatewaysTable.name).where({ gwid }).update({ state });
      }),
    );
  }

  async loadAddresses(): Promise<{ rows: AddressRow[]; problems: RowProblem[] }> {
    return this.readTable(addressTable);
  }

  async sharedValue(name: SharedValueName, candidate: string): Promise<string> {
    return this.guard(async () => {
      await this.knex(sharedValuesTable.name).insert({ name, value: candidate }).onConflict('name').ignore();
      const row = (await this.knex(sharedValuesTable.name).where({ name }).first('value')) as Pick<SharedValueRow, 'value'> | undefined;
      if (row === undefined) throw new Error(`${sharedValuesTable.name} holds no ${name} after it was written`);
      return row.value;
    });
  }

  async writeCarrierState(carrierid: string, state: number): Promise<void> {
    await this.guard(() => this.knex(drCarriersTable.name).where({ carrierid }).update({ state }));
  }

  async listPeers(options: { staticHostsOnly?: boolean } = {}): Promise<PeerRow[]> {
    const query = this.knex(sippeersTable.name).select(PEER_COLUMN_NAMES).orderBy('name');
    if (options.staticHostsOnly) query.whereNotNull('host').whereNot('host', 'dynamic');
    const { rows, problems } = decodeRows(peerColumnsOfSippeers, await this.guard(() => this.runSelect(query)));
    if (problems.length > 0) throw new RowError(problems);
    return rows as PeerRow[];
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
    await this.writerThread?.close();
    this.peerReader?.close();
    await this.knex.destroy();
  }

  private async readTable<T extends TableSpec>(table: T) {
    const query = this.knex(table.name).select('*').orderBy(table.keyColumn);
    return decodeRows(table, await this.guard(() => this.runSelect(query)));
  }

  private runSelect(query: Knex.QueryBuilder): Promise<Record<string, unknown>[]> {
    return this.dialect === 'sqlite' ? this.readSqliteRows(query.toSQL().toNative()) : query;
  }

  /**
   * better-sqlite3 builds row objects in C++ at half the speed of plain
   * arrays; for a million rules that is seconds of a reload. So whole-table
   * reads take arrays and build the objects here.
   */
  private async readSqliteRows(native: { sql: string; bindings: readonly unknown[] }): Promise<Record<string, unknown>[]> {
    const connection = (await this.knex.client.acquireConnection()) as SqliteConnection;
    try {
      const statement = connection.prepare(native.sql);
      const names = statement.columns().map((column) => column.name);
      const arrays = statement.raw(true).all(...native.bindings) as unknown[][];
      return arrays.map((values) => {
        const record: Record<string, unknown> = {};
        for (let i = 0; i < names.length; i++) record[names[i] ?? ''] = values[i];
        return record;
      });
    } finally {
      await this.knex.client.releaseConnection(connection);
    }
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

/** Rules per page of a streamed read: small enough to keep a reload's peak memory down. */
const RULE_PAGE_SIZE = 50_000;

/** The parts of a better-sqlite3 connection the array read uses. */
interface SqliteConnection {
  prepare(sql: string): {
    columns(): { name: string }[];
    raw(on: boolean): { all(...bindings: unknown[]): unknown[] };
  };
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
