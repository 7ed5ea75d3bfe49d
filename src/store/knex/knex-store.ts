import type { Knex } from 'knex';
import { DrouterError, RowError, type RowProblem, SchemaError } from '../../errors.js';
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
import {
  DEFAULT_DROUTING_TABLE_NAMES,
  detectLayout,
  type DroutingTableNames,
  layoutTables,
  sourceOf,
  type StoreLayout,
  type TableRead,
} from '../../core/model/table-layouts.js';
import { GroupCommit } from '../group-commit.js';
import { type SharedValueRow, sharedValuesTable } from '../../core/model/shared-values-table.js';
import type { AddressRow } from '../../core/model/address-table.js';
import type { RoutingRows, RoutingRowStream, SharedValueName, Store } from '../store.js';
import type { Dialect, KnexHandle } from './connect.js';
import { readPresentTables } from './present-tables.js';
import { guardStoreQuery } from './query-guard.js';
import { type SeedSummary, seedExample } from './seed.js';
import { SqlitePeerReader } from './sqlite-peer-reader.js';
import { type RegistrationWrite, SqliteWriterThread } from './sqlite-writer.js';
import { TableReader } from './table-reader.js';

/** The Store port over knex: SQLite (better-sqlite3) or MySQL/MariaDB (mysql2). */
export class KnexStore implements Store {
  readonly displayUrl: string;
  private readonly knex: Knex;
  private readonly dialect: Dialect;
  private readonly reader: TableReader;

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
    this.reader = new TableReader(handle.knex, handle.dialect, handle.displayUrl);
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
      this.reader.readTable(layout.gateways),
      this.reader.readTable(layout.carriers),
      this.reader.readTable(layout.groups),
      this.reader.readTable(layout.gwLists),
    ]);
    return {
      gateways: gateways.rows,
      carriers: carriers.rows,
      groups: groups.rows,
      gwLists: gwLists.rows,
      problems: [gateways, carriers, groups, gwLists].flatMap((decoded) => decoded.problems),
      layout: layout.name,
      rulePages: this.reader.readRulePages(layout.rules),
    };
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
    return this.reader.readTable((await this.layoutRead()).addresses);
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
    const { rows, problems } = decodeRows(peerColumnsOfSippeers, await this.guard(() => this.reader.runSelect(query)));
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
    const records = await this.guard(() => this.reader.runSelect(query));
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

  private guard<R>(query: () => Promise<R>): Promise<R> {
    return guardStoreQuery(this.displayUrl, query);
  }
}
