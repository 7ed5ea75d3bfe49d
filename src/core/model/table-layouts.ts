import type { SchemaProblem } from '../../errors.js';
import { addressTable } from './address-table.js';
import type { ColumnKind, ColumnSpec, TableSpec } from './columns.js';
import { drCarriersTable, drGatewaysTable, drGroupsTable, drGwListsTable, drRulesTable } from './drouting-tables.js';
import { sharedValuesTable } from './shared-values-table.js';
import { peerColumnsOfSippeers } from './sippeers-table.js';

/**
 * How the operator's tables are read, from the columns they have: the
 * OpenSIPS 3.x tables our migrations create, the OpenSIPS 1.x/2.x ones
 * (fewer columns; dr_gw_lists), and Kamailio 5.x drouting (OpenSIPS 1.5's
 * tables kept: `gwid` the integer key of dr_gateways, no probe_mode, state
 * or socket, no dr_carriers). Every layout is read into the OpenSIPS 3.x
 * row shapes: a column some known layout lacks takes OpenSIPS's default
 * when absent; a column every known layout has is required.
 */

/** What a column of the database can hold, reduced from its declared type by the store. */
export type ColumnHolds = 'integer' | 'text' | 'any' | 'other';

export interface PresentColumn {
  /** As the database spells it. */
  name: string;
  /** The declared type, for messages (`char(64)`, `blob`). */
  sqlType: string;
  holds: ColumnHolds;
}

/** The tables the database has, by name, each with its columns by lower-case name. */
export type PresentTables = ReadonlyMap<string, ReadonlyMap<string, PresentColumn>>;

/** One of our columns, read from a column of the table (its own or one standing in) or as a fixed value. */
export type ColumnRead =
  { readonly name: string; readonly from: string } | { readonly name: string; readonly value: string | number | null };

export interface TableRead<T extends TableSpec = TableSpec> {
  readonly spec: T;
  /** The table's name in the database: the spec's, or the one a partition gives it (dr_partitions). */
  readonly table: string;
  /** In the spec's column order. */
  readonly columns: readonly ColumnRead[];
  /** The table's column that orders (and pages) the rows: the spec's key, or the column standing in for it. */
  readonly orderBy: string;
}

export interface StoreLayout {
  /** The drouting layout by name, for the start line and `drouter check`. */
  readonly name: string;
  readonly gateways: TableRead<typeof drGatewaysTable>;
  readonly rules: TableRead<typeof drRulesTable>;
  /** Optional tables: undefined when the database has none (read as empty). */
  readonly carriers: TableRead<typeof drCarriersTable> | undefined;
  readonly groups: TableRead<typeof drGroupsTable> | undefined;
  readonly gwLists: TableRead<typeof drGwListsTable> | undefined;
  readonly peers: TableRead<typeof peerColumnsOfSippeers> | undefined;
  readonly addresses: TableRead<typeof addressTable> | undefined;
  /** drouter_shared, sip-drouter's own table, is there (the shared secret). */
  readonly sharedValues: boolean;
  /** What differs from the OpenSIPS 3.x tables, one line each (absent tables, columns read as defaults). */
  readonly notes: readonly string[];
}

interface TableShape<T extends TableSpec> {
  readonly spec: T;
  /** Columns some known layout lacks, and which: read as the column's default (NULL when it has none). */
  readonly optional?: Readonly<Record<string, string>>;
  /** A column read from another when the table lacks it, and whose layout that is. */
  readonly standIn?: { readonly column: string; readonly from: string; readonly layout: string };
}

/** The drouting layouts by name (StoreLayout.name), as told apart by droutingLayoutName. */
export const DROUTING_LAYOUTS = {
  /** An integer gwid key and no id. */
  kamailio: 'Kamailio 5.x, OpenSIPS 1.5–1.7',
  /** dr_rules has sort_alg, which OpenSIPS 2.x and earlier lack. */
  opensips3: 'OpenSIPS 3.x',
  opensips18: 'OpenSIPS 1.8–2.x',
} as const;

const KAMAILIO_KEY = DROUTING_LAYOUTS.kamailio;

const SHAPES = {
  gateways: {
    spec: drGatewaysTable,
    optional: {
      probe_mode: 'Kamailio 5.x, OpenSIPS 1.5–1.6',
      state: `${KAMAILIO_KEY}, OpenSIPS 1.8–1.10`,
      socket: `${KAMAILIO_KEY}, OpenSIPS 1.8–1.10`,
    },
    standIn: { column: 'id', from: 'gwid', layout: KAMAILIO_KEY },
  },
  rules: {
    spec: drRulesTable,
    optional: {
      sort_alg: 'OpenSIPS 1.x–2.x, Kamailio 5.x',
      sort_profile: 'OpenSIPS 1.x–2.x, Kamailio 5.x',
      attrs: 'Kamailio 5.x, OpenSIPS 1.5–1.6',
    },
  },
  carriers: { spec: drCarriersTable, optional: { state: 'OpenSIPS 1.8–1.10', sort_alg: 'OpenSIPS 1.8–2.x' } },
  groups: { spec: drGroupsTable },
  gwLists: { spec: drGwListsTable },
  peers: { spec: peerColumnsOfSippeers },
  addresses: {
    spec: addressTable,
    optional: { proto: 'Kamailio 5.x', pattern: 'Kamailio 5.x', context_info: 'Kamailio 5.x' },
    standIn: { column: 'ip', from: 'ip_addr', layout: 'Kamailio 5.x' },
  },
} as const satisfies Record<string, TableShape<TableSpec>>;

/**
 * The names of the drouting tables a partition may set (OpenSIPS
 * dr_partitions: drd_table, drr_table, drg_table, drc_table); the other
 * tables keep their own names.
 */
export interface DroutingTableNames {
  readonly gateways: string;
  readonly rules: string;
  readonly groups: string;
  readonly carriers: string;
}

export const DEFAULT_DROUTING_TABLE_NAMES: DroutingTableNames = {
  gateways: drGatewaysTable.name,
  rules: drRulesTable.name,
  groups: drGroupsTable.name,
  carriers: drCarriersTable.name,
};

type ShapeName = keyof typeof SHAPES;

function tableNameOf(shape: ShapeName, names: DroutingTableNames): string {
  return shape in names ? names[shape as keyof DroutingTableNames] : SHAPES[shape].spec.name;
}

/** Every table the layout is read from: what the store asks the database about. */
export function layoutTables(names: DroutingTableNames = DEFAULT_DROUTING_TABLE_NAMES): string[] {
  return [...(Object.keys(SHAPES) as ShapeName[]).map((shape) => tableNameOf(shape, names)), sharedValuesTable.name];
}

interface Readable {
  holds: readonly ColumnHolds[];
  words: string;
}

const INTEGER_ONLY: Readable = { holds: ['integer', 'any'], words: 'an integer type (int, smallint, bigint …)' };
const TEXT_ONLY: Readable = { holds: ['text', 'any'], words: 'a text type (char, varchar, text)' };

/**
 * What the columns of each kind can be read from. Looser than OpenSIPS,
 * which refuses a char column where it reads an integer: the values are
 * checked row by row after (decode-rows.ts), and a bad one is named there.
 */
const READABLE_FROM: Record<ColumnKind, Readable> = {
  int: { holds: ['integer', 'text', 'any'], words: 'an integer or text type (int, bigint, char, varchar …)' },
  uint: { holds: ['integer', 'text', 'any'], words: 'an integer or text type (int, bigint, char, varchar …)' },
  // An integer column read as text: Kamailio's gwid, OpenSIPS 1.5's routeid.
  text: { holds: ['text', 'integer', 'any'], words: 'a text or integer type (char, varchar, text, int …)' },
  enum: { holds: ['text', 'any'], words: 'a text type (enum, char, varchar, text)' },
};

/** A column standing in for another is what tells the layouts apart (Kamailio's integer gwid key, OpenSIPS's text gwid): its type is held strictly. */
function readableFrom(column: ColumnSpec, standIn: boolean): Readable {
  if (!standIn) return READABLE_FROM[column.kind];
  return column.kind === 'int' || column.kind === 'uint' ? INTEGER_ONLY : TEXT_ONLY;
}

export type LayoutResult = { ok: true; layout: StoreLayout } | { ok: false; problems: SchemaProblem[] };

/** Reads the layout off the columns present; every problem when it is none we read. */
export function detectLayout(
  present: PresentTables,
  names: DroutingTableNames = DEFAULT_DROUTING_TABLE_NAMES,
): LayoutResult {
  const problems: SchemaProblem[] = [];
  const notes: string[] = [];
  const read = <T extends TableSpec>(
    name: ShapeName,
    shape: TableShape<T>,
    required: boolean,
  ): TableRead<T> | undefined => {
    const table = tableNameOf(name, names);
    const columns = present.get(table);
    if (!columns) {
      if (required) problems.push({ table });
      else notes.push(`${table}: absent, read as empty`);
      return undefined;
    }
    return tableRead(shape, table, columns, problems, notes);
  };
  const gateways = read('gateways', SHAPES.gateways, true);
  const rules = read('rules', SHAPES.rules, true);
  const carriers = read('carriers', SHAPES.carriers, false);
  const groups = read('groups', SHAPES.groups, false);
  const gwLists = read('gwLists', SHAPES.gwLists, false);
  const peers = read('peers', SHAPES.peers, false);
  const addresses = read('addresses', SHAPES.addresses, false);
  if (!gateways || !rules || problems.length > 0) return { ok: false, problems };
  const sharedValues = present.has(sharedValuesTable.name);
  return {
    ok: true,
    layout: {
      name: droutingLayoutName(gateways, rules),
      gateways,
      rules,
      carriers,
      groups,
      gwLists,
      peers,
      addresses,
      sharedValues,
      notes,
    },
  };
}

function tableRead<T extends TableSpec>(
  shape: TableShape<T>,
  table: string,
  present: ReadonlyMap<string, PresentColumn>,
  problems: SchemaProblem[],
  notes: string[],
): TableRead<T> {
  const columns: ColumnRead[] = [];
  const defaulted: ColumnSpec[] = [];
  let orderBy = shape.spec.keyColumn;
  for (const column of shape.spec.columns) {
    const own = present.get(column.name);
    const standIn = !own && shape.standIn?.column === column.name ? shape.standIn : undefined;
    const source = own ?? (standIn ? present.get(standIn.from) : undefined);
    if (source) {
      const readable = readableFrom(column, standIn !== undefined);
      if (readable.holds.includes(source.holds)) {
        columns.push({ name: column.name, from: source.name });
        if (column.name === shape.spec.keyColumn) orderBy = source.name;
      } else {
        const as = standIn
          ? `with no ${column.name} column, ${standIn.from} stands in for it (${standIn.layout}) and`
          : 'it';
        problems.push({ table, column: source.name, problem: `is ${source.sqlType}: ${as} must be ${readable.words}` });
      }
    } else if (
      shape.optional &&
      column.name in shape.optional &&
      (column.nullable || column.defaultValue !== undefined)
    ) {
      columns.push({ name: column.name, value: column.defaultValue ?? null });
      defaulted.push(column);
    } else {
      const alternative = standIn ? ` (nor ${standIn.from}, its ${standIn.layout} stand-in)` : '';
      problems.push({ table, column: column.name, problem: `missing${alternative}` });
    }
  }
  const stoodIn =
    shape.standIn && !present.has(shape.standIn.column) && present.has(shape.standIn.from) ? shape.standIn : undefined;
  if (stoodIn) notes.push(`${table}: no ${stoodIn.column} column, ${stoodIn.from} read as it (${stoodIn.layout})`);
  if (defaulted.length > 0) {
    notes.push(
      `${table}: no ${defaulted.map((c) => c.name).join(', ')}, read as ${defaulted.map((c) => JSON.stringify(c.defaultValue ?? null)).join(', ')}`,
    );
  }
  return { spec: shape.spec, table, columns, orderBy };
}

/** The drouting layout's name, from the columns that tell them apart. */
function droutingLayoutName(gateways: TableRead, rules: TableRead): string {
  if (sourceOf(gateways, 'id')?.toLowerCase() === SHAPES.gateways.standIn.from) return KAMAILIO_KEY;
  if (sourceOf(rules, 'sort_alg') !== undefined) return DROUTING_LAYOUTS.opensips3;
  return DROUTING_LAYOUTS.opensips18;
}

/** The table's column our column `name` is read from; undefined when the table lacks it (a fixed value is read). */
export function sourceOf(read: TableRead, name: string): string | undefined {
  const column = read.columns.find((c) => c.name === name);
  return column && 'from' in column ? column.from : undefined;
}
