import type { Knex } from 'knex';
import { DrouterError, RowError, type RowProblem, SchemaError, StoreUnreachableError } from '../../errors.js';
import { decodeRows } from '../../core/model/decode-rows.js';
import {
  type DrRuleRow,
  drGatewaysTable,
  drGroupsTable,
  drGwListsTable,
  drRulesTable,
} from '../../core/model/drouting-tables.js';
import {
  PEER_COLUMN_NAMES,
  type PeerRow,
  peerColumnsOfSippeers,
  REGISTRATION_COLUMN_NAMES,
  type RegistrationColumnSizes,
  sippeersTable,
} from '../../core/model/sippeers-table.js';
import type { RowOf, TableSpec } from '../../core/model/columns.js';
import {
  type ColumnRead,
  DEFAULT_DROUTING_TABLE_NAMES,
  detectLayout,
  type DroutingTableNames,
  layoutTables,
  sourceOf,
  type StoreLayout,
  type TableRead,
} from '../../core/model/table-layouts.js';
import type { RulePage } from '../../core/model/routing-rows.js';
import { GroupCommit } from '../group-commit.js';
import { type SharedValueRow, sharedValuesTable } from '../../core/model/shared-values-table.js';
import type { AddressRow } from '../../core/model/address-table.js';
import type { RoutingRows, RoutingRowStream, SharedValueName, Store } from '../store.js';
import type { Dialect, KnexHandle } from './connect.js';
import { connectionPool } from './pooled-connection.js';
import { readPresentTables } from './present-tables.js';
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
  /** How the tables are read: from the database's columns, at start and at every reload (readLayout). */
  private currentLayout: StoreLayout | undefined;

  /** rtupdate's write-backs, grouped: the REGISTER benchmark's cost was one synced commit each. */
  private readonly registrationWrites = new GroupCommit<RegistrationWrite, boolean>((writes) =>
    this.guard(() => (this.writerThread ? this.writerThread.commit(writes) : this.writeInTransaction(writes))),
  );

  /** `tables`: the drouting tables under other names (a partition's, from dr_partitions). */
  constructor(
    handle: KnexHandle,
    private readonly tables: DroutingTableNames = DEFAULT_DROUTING_TABLE_NAMES,
  ) {
    this.knex = handle.knex;
    this.dialect = handle.dialect;
    this.displayUrl = handle.displayUrl;
    this.sqliteFile = handle.sqliteFile;
    this.writerThread =
      handle.sqliteFile === undefined ? undefined : new SqliteWriterThread(handle.sqliteFile, handle.displayUrl);
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

  /**
   * Reads which tables the database has and which columns (docs/schema.md,
   * "Schema"), and so how each table is read. Throws SchemaError naming
   * every table and column that cannot be read; the layout read before
   * then stays in use.
   */
  async readLayout(): Promise<StoreLayout> {
    const present = await this.guard(() => readPresentTables(this.knex, this.dialect, layoutTables(this.tables)));
    const detected = detectLayout(present, this.tables);
    if (!detected.ok) throw new SchemaError(this.displayUrl, detected.problems);
    this.currentLayout = detected.layout;
    return detected.layout;
  }

  layout(): StoreLayout {
    if (!this.currentLayout) throw new Error('store: layout() before the layout was read (readLayout)');
    return this.currentLayout;
  }

  /** Every reload reads the layout again: `drouter migrate` or an operator's ALTER may have changed it. */
  async streamRoutingRows(): Promise<RoutingRowStream> {
    const layout = await this.readLayout();
    const [gateways, carriers, groups, gwLists] = await Promise.all([
      this.readTable(layout.gateways),
      this.readTable(layout.carriers),
      this.readTable(layout.groups),
      this.readTable(layout.gwLists),
    ]);
    return {
      gateways: gateways.rows,
      carriers: carriers.rows,
      groups: groups.rows,
      gwLists: gwLists.rows,
      problems: [gateways, carriers, groups, gwLists].flatMap((decoded) => decoded.problems),
      layout: layout.name,
      rulePages: this.readRulePages(layout.rules),
    };
  }

  /** dr_rules in ruleid order, a page at a time (keyset paging on the primary key). */
  private async *readRulePages(rules: StoreLayout['rules']): AsyncGenerator<RulePage> {
    let after = -1;
    for (;;) {
      const query = this.selectFrom(rules)
        .where(rules.orderBy, '>', after)
        .orderBy(rules.orderBy)
        .limit(RULE_PAGE_SIZE);
      const records = await this.guard(() => this.runSelect(query));
      const last = records[records.length - 1];
      if (!last) return;
      yield decodeRows(rules.spec, records);
      after = Number(last[rules.spec.keyColumn]);
      if (records.length < RULE_PAGE_SIZE) return;
    }
  }

  async findPeerByName(name: string): Promise<PeerRow | undefined> {
    if (!(await this.layoutRead()).peers) return undefined;
    const records = await this.guard(async (): Promise<Record<string, unknown>[]> => {
      if (this.sqliteFile === undefined)
        return this.knex(sippeersTable.name).select(PEER_COLUMN_NAMES).where({ name }).limit(1);
      this.peerReader ??= new SqlitePeerReader(this.sqliteFile);
      return this.peerReader.rowsNamed(name);
    });
    const { rows, problems } = decodeRows(peerColumnsOfSippeers, records);
    if (problems.length > 0) throw new RowError(problems);
    return rows[0];
  }

  async writeRegistration(
    name: string,
    columns: RegistrationWrite['columns'],
    options: { expiredBy?: number } = {},
  ): Promise<boolean> {
    if (!(await this.layoutRead()).peers) return false;
    return this.registrationWrites.submit({ name, columns, expiredBy: options.expiredBy });
  }

  /**
   * MySQL/MariaDB: CHARACTER_MAXIMUM_LENGTH of the string columns, as the
   * operator's table has them (Asterisk's DDL, or widened). SQLite: none,
   * for it enforces no VARCHAR(n) and the whole value is the more useful
   * row (the location service's fallback sends calls to it).
   */
  async registrationColumnSizes(): Promise<RegistrationColumnSizes> {
    if (this.dialect === 'sqlite') return {};
    const records = (await this.guard(() =>
      this.knex('information_schema.COLUMNS')
        .select({ column: 'COLUMN_NAME', size: 'CHARACTER_MAXIMUM_LENGTH' })
        .whereRaw('TABLE_SCHEMA = DATABASE()')
        .andWhere('TABLE_NAME', sippeersTable.name)
        .whereIn('COLUMN_NAME', [...REGISTRATION_COLUMN_NAMES])
        .whereNotNull('CHARACTER_MAXIMUM_LENGTH'),
    )) as { column: string; size: number | string }[];
    return Object.fromEntries(records.map(({ column, size }) => [column, Number(size)]));
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

  /** A dr_gateways without a state column (Kamailio's) has nowhere to keep the states: nothing is written. */
  async writeGatewayStates(states: ReadonlyMap<string, number>): Promise<void> {
    const { gateways } = await this.layoutRead();
    const stateColumn = sourceOf(gateways, 'state');
    const gwidColumn = sourceOf(gateways, 'gwid');
    if (states.size === 0 || !stateColumn || !gwidColumn) return;
    await this.guard(() =>
      this.knex.transaction(async (trx) => {
        for (const [gwid, state] of states)
          await trx(gateways.table)
            .where(gwidColumn, gwid)
            .update({ [stateColumn]: state });
      }),
    );
  }

  async loadAddresses(): Promise<{ rows: AddressRow[]; problems: RowProblem[] }> {
    return this.readTable((await this.layoutRead()).addresses);
  }

  async sharedValue(name: SharedValueName, candidate: string): Promise<string | undefined> {
    if (!(await this.layoutRead()).sharedValues) return undefined;
    return this.guard(async () => {
      await this.knex(sharedValuesTable.name).insert({ name, value: candidate }).onConflict('name').ignore();
      const row = await this.knex<SharedValueRow>(sharedValuesTable.name).where({ name }).first('value');
      if (row === undefined) throw new Error(`${sharedValuesTable.name} holds no ${name} after it was written`);
      return row.value;
    });
  }

  /** Without dr_carriers, or its state column (OpenSIPS 1.8–1.10), nothing is written. */
  async writeCarrierState(carrierid: string, state: number): Promise<void> {
    const { carriers } = await this.layoutRead();
    const stateColumn = carriers && sourceOf(carriers, 'state');
    const idColumn = carriers && sourceOf(carriers, 'carrierid');
    if (!carriers || !stateColumn || !idColumn) return;
    await this.guard(() =>
      this.knex(carriers.table)
        .where(idColumn, carrierid)
        .update({ [stateColumn]: state }),
    );
  }

  async listPeers(options: { staticHostsOnly?: boolean } = {}): Promise<PeerRow[]> {
    if (!(await this.layoutRead()).peers) return [];
    const query = this.knex(sippeersTable.name).select(PEER_COLUMN_NAMES).orderBy('name');
    if (options.staticHostsOnly) query.whereNotNull('host').whereNot('host', 'dynamic');
    const { rows, problems } = decodeRows(peerColumnsOfSippeers, await this.guard(() => this.runSelect(query)));
    if (problems.length > 0) throw new RowError(problems);
    return rows;
  }

  async registeredPeers(
    after: string,
    limit: number,
    nowSeconds: number,
  ): Promise<{ rows: PeerRow[]; problems: RowProblem[]; last: string | undefined }> {
    if (!(await this.layoutRead()).peers) return { rows: [], problems: [], last: undefined };
    const query = this.knex(sippeersTable.name)
      .select(PEER_COLUMN_NAMES)
      .where('name', '>', after)
      .where('regseconds', '>', nowSeconds)
      .whereNotNull('fullcontact')
      .whereNot('fullcontact', '')
      .orderBy('name')
      .limit(limit);
    const records = await this.guard(() => this.runSelect(query));
    const { rows, problems } = decodeRows(peerColumnsOfSippeers, records);
    // The name column is text: the driver gives a string (or, SQLite storing what it is given, a number).
    const lastName = records[records.length - 1]?.name as string | number | undefined;
    const last = records.length < limit ? undefined : String(lastName ?? '');
    return { rows, problems, last };
  }

  async countPeers(): Promise<number> {
    if (!(await this.layoutRead()).peers) return 0;
    const [row] = await this.guard(() => this.knex(sippeersTable.name).count({ count: '*' }));
    return Number(row?.count ?? 0);
  }

  /** Loads the example data into empty tables (see seed.ts): OpenSIPS 3.x rows, so only into tables of that layout. */
  async seedExample(): Promise<SeedSummary> {
    const layout = await this.readLayout();
    const seeded: [string, TableRead | undefined][] = [
      [drGatewaysTable.name, layout.gateways],
      [drGwListsTable.name, layout.gwLists],
      [drRulesTable.name, layout.rules],
      [drGroupsTable.name, layout.groups],
      [sippeersTable.name, layout.peers],
    ];
    const absent = seeded.filter(([, read]) => !read).map(([table]) => ({ table }));
    if (absent.length > 0) throw new SchemaError(this.displayUrl, absent);
    const other = seeded
      .filter(([, read]) => read?.columns.some((column) => !('from' in column) || column.from !== column.name))
      .map(([table]) => table);
    if (other.length > 0) {
      throw new DrouterError(
        'DROUTER_ERR_SEED',
        `seed: the example is written as OpenSIPS 3.x rows, and ${other.join(', ')} here ${other.length === 1 ? 'is' : 'are'} read as ${layout.name}; seed a database of sip-drouter's own`,
      );
    }
    return this.guard(() => seedExample(this.knex));
  }

  async close(): Promise<void> {
    await this.writerThread?.close();
    this.peerReader?.close();
    await this.knex.destroy();
  }

  /** The layout as read last; read now when it never was (a store opened for one command). */
  private async layoutRead(): Promise<StoreLayout> {
    return this.currentLayout ?? this.readLayout();
  }

  /** A table's rows in our row shape, in key order; an absent optional table has none. */
  private async readTable<T extends TableSpec>(
    read: TableRead<T> | undefined,
  ): Promise<{ rows: RowOf<T>[]; problems: RowProblem[] }> {
    if (!read) return { rows: [], problems: [] };
    const query = this.selectFrom(read).orderBy(read.orderBy);
    return decodeRows(read.spec, await this.guard(() => this.runSelect(query)));
  }

  /** SELECT of our columns: each from the table's column (renamed where it stands in) or as the default it lacks. */
  private selectFrom(read: TableRead): Knex.QueryBuilder {
    return this.knex(read.table).select(read.columns.map((column) => this.selection(column)));
  }

  private selection(column: ColumnRead): string | Knex.Raw | Knex.Ref<string, Record<string, string>> {
    if ('from' in column) return column.from === column.name ? column.name : this.knex.ref(column.from).as(column.name);
    return column.value === null
      ? this.knex.raw('NULL AS ??', [column.name])
      : this.knex.raw('? AS ??', [column.value, column.name]);
  }

  private runSelect(query: Knex.QueryBuilder): Promise<Record<string, unknown>[]> {
    return this.dialect === 'sqlite' ? this.readSqliteRows(query.toSQL().toNative()) : query;
  }

  /**
   * better-sqlite3 builds row objects in C++ at half the speed of plain
   * arrays; for a million rules that is seconds of a reload. So whole-table
   * reads take arrays and build the objects here.
   */
  private async readSqliteRows(native: {
    sql: string;
    bindings: readonly unknown[];
  }): Promise<Record<string, unknown>[]> {
    const pool = connectionPool(this.knex);
    const connection = (await pool.acquireConnection()) as SqliteConnection;
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
      await pool.releaseConnection(connection);
    }
  }

  private guard<R>(query: () => Promise<R>): Promise<R> {
    return guardStoreQuery(this.displayUrl, query);
  }
}

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

/** `no such table: dr_rules` (SQLite), `Table 'db.dr_rules' doesn't exist` (MariaDB); else the whole message. */
function missingTableName(error: Error): string {
  return (
    /no such table: (\S+)/.exec(error.message)?.[1] ??
    /Table '(?:[^'.]*\.)?([^']+)' doesn't exist/.exec(error.message)?.[1] ??
    error.message
  );
}
