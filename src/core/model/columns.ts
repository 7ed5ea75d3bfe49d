/**
 * Column descriptions shared by the migrations (which create the tables)
 * and the row decoder (which checks what the tables hold). `mysqlType` is
 * spelled as MariaDB reports it in information_schema.COLUMNS.COLUMN_TYPE,
 * so the SQL files, the migrations and this list can be compared.
 */

export type ColumnKind = 'int' | 'uint' | 'text' | 'enum';

export interface ColumnSpec<
  N extends string = string,
  K extends ColumnKind = ColumnKind,
  Null extends boolean = boolean,
> {
  readonly name: N;
  readonly kind: K;
  readonly nullable: Null;
  readonly mysqlType: string;
  readonly defaultValue?: string | number;
  readonly autoIncrement?: boolean;
  readonly enumValues?: readonly string[];
}

export interface IndexSpec {
  readonly name: string;
  readonly columns: readonly string[];
}

export interface TableSpec<Cols extends readonly ColumnSpec[] = readonly ColumnSpec[]> {
  readonly name: string;
  readonly columns: Cols;
  /** The column that identifies a row in error messages. */
  readonly keyColumn: string;
  /** A human name shown beside the key (gwid, carrierid, peer name). */
  readonly labelColumn?: string;
  readonly uniques: readonly IndexSpec[];
  readonly indexes: readonly IndexSpec[];
  /** Row for the OpenSIPS `version` table, when the table has one. */
  readonly version?: number;
}

type ValueOfKind<K extends ColumnKind> = K extends 'int' | 'uint' ? number : string;

/** The plain row object of a table: column names as the table has them. */
export type RowOf<T extends TableSpec> = {
  -readonly [C in T['columns'][number] as C['name']]: C['nullable'] extends true
    ? ValueOfKind<C['kind']> | null
    : ValueOfKind<C['kind']>;
};

/** `INT(10) UNSIGNED AUTO_INCREMENT PRIMARY KEY NOT NULL`, the OpenSIPS id. */
export function uintKey<const N extends string>(name: N): ColumnSpec<N, 'uint', false> {
  return { name, kind: 'uint', nullable: false, mysqlType: 'int(10) unsigned', autoIncrement: true };
}

/** `INTEGER AUTO_INCREMENT PRIMARY KEY NOT NULL`, the Asterisk (alembic) id. */
export function intKey<const N extends string>(name: N): ColumnSpec<N, 'int', false> {
  return { name, kind: 'int', nullable: false, mysqlType: 'int(11)', autoIncrement: true };
}

export function char<const N extends string>(
  name: N,
  length: number,
  defaultValue?: string,
): ColumnSpec<N, 'text', false> {
  return {
    name,
    kind: 'text',
    nullable: false,
    mysqlType: `char(${length})`,
    ...(defaultValue === undefined ? {} : { defaultValue }),
  };
}

export function charNull<const N extends string>(name: N, length: number): ColumnSpec<N, 'text', true> {
  return { name, kind: 'text', nullable: true, mysqlType: `char(${length})` };
}

export function varchar<const N extends string>(name: N, length: number): ColumnSpec<N, 'text', false> {
  return { name, kind: 'text', nullable: false, mysqlType: `varchar(${length})` };
}

export function varcharNull<const N extends string>(name: N, length: number): ColumnSpec<N, 'text', true> {
  return { name, kind: 'text', nullable: true, mysqlType: `varchar(${length})` };
}

export function uint<const N extends string>(
  name: N,
  width: 10 | 11,
  defaultValue: number,
): ColumnSpec<N, 'uint', false> {
  return { name, kind: 'uint', nullable: false, mysqlType: `int(${width}) unsigned`, defaultValue };
}

export function uintNull<const N extends string>(name: N, width: 10 | 11): ColumnSpec<N, 'uint', true> {
  return { name, kind: 'uint', nullable: true, mysqlType: `int(${width}) unsigned` };
}

export function int<const N extends string>(name: N, defaultValue: number): ColumnSpec<N, 'int', false> {
  return { name, kind: 'int', nullable: false, mysqlType: 'int(11)', defaultValue };
}

export function intNull<const N extends string>(name: N): ColumnSpec<N, 'int', true> {
  return { name, kind: 'int', nullable: true, mysqlType: 'int(11)' };
}

export function enumNull<const N extends string>(name: N, values: readonly string[]): ColumnSpec<N, 'enum', true> {
  const mysqlType = `enum(${values.map((v) => `'${v}'`).join(',')})`;
  return { name, kind: 'enum', nullable: true, mysqlType, enumValues: values };
}
