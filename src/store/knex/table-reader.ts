import type { Knex } from 'knex';
import type { RowProblem } from '../../errors.js';
import { decodeRows } from '../../core/model/decode-rows.js';
import type { RowOf, TableSpec } from '../../core/model/columns.js';
import type { ColumnRead, StoreLayout, TableRead } from '../../core/model/table-layouts.js';
import type { RulePage } from '../../core/model/routing-rows.js';
import type { Dialect } from './connect.js';
import { connectionPool } from './pooled-connection.js';
import { guardStoreQuery } from './query-guard.js';

/**
 * The store's SELECTs of a table as its layout reads it: our columns taken
 * from the table's own (renamed where they stand in, a default where they
 * lack), and on SQLite the rows read as arrays.
 */
export class TableReader {
  constructor(
    private readonly knex: Knex,
    private readonly dialect: Dialect,
    private readonly displayUrl: string,
  ) {}

  /** A table's rows in our row shape, in key order; an absent optional table has none. */
  async readTable<T extends TableSpec>(
    read: TableRead<T> | undefined,
  ): Promise<{ rows: RowOf<T>[]; problems: RowProblem[] }> {
    if (!read) return { rows: [], problems: [] };
    const query = this.selectFrom(read).orderBy(read.orderBy);
    return decodeRows(read.spec, await guardStoreQuery(this.displayUrl, () => this.runSelect(query)));
  }

  /** dr_rules in ruleid order, a page at a time (keyset paging on the primary key). */
  async *readRulePages(rules: StoreLayout['rules']): AsyncGenerator<RulePage> {
    let after = -1;
    for (;;) {
      const query = this.selectFrom(rules)
        .where(rules.orderBy, '>', after)
        .orderBy(rules.orderBy)
        .limit(RULE_PAGE_SIZE);
      const records = await guardStoreQuery(this.displayUrl, () => this.runSelect(query));
      const last = records[records.length - 1];
      if (!last) return;
      yield decodeRows(rules.spec, records);
      after = Number(last[rules.spec.keyColumn]);
      if (records.length < RULE_PAGE_SIZE) return;
    }
  }

  /** A SELECT's rows: on SQLite read as arrays (readSqliteRows), elsewhere as knex gives them. */
  runSelect(query: Knex.QueryBuilder): Promise<Record<string, unknown>[]> {
    return this.dialect === 'sqlite' ? this.readSqliteRows(query.toSQL().toNative()) : query;
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
