import type { RowProblem } from '../../errors.js';
import { type DrPartitionRow, drPartitionsTable } from '../../core/model/partitions-table.js';
import { DEFAULT_DROUTING_TABLE_NAMES, type DroutingTableNames } from '../../core/model/table-layouts.js';
import type { LoadProblems } from './load-problems.js';

/**
 * OpenSIPS 3.x partitions (drouting `use_partitions`): each dr_partitions
 * row names a routing data set of its own, its tables perhaps under other
 * names or in another database. Gateway and carrier ids are unique only
 * within a partition, so the snapshot keys them `partition:id` (a colon is
 * no id character of any dialect), which is how the probe, the states, the
 * admin API and the metrics name them.
 */

export interface PartitionDefinition {
  readonly name: string;
  /** Its database, as a store URL (sqlite:PATH or mysql://…). */
  readonly url: string;
  readonly tables: DroutingTableNames;
}

/** The one data set when partitions are off: no name, no qualified ids. */
export const UNPARTITIONED = '';

export const PARTITION_SEPARATOR = ':';

export function qualifiedId(partition: string, id: string): string {
  return partition === UNPARTITIONED ? id : `${partition}${PARTITION_SEPARATOR}${id}`;
}

/** `partition:id` taken apart; an id without a partition belongs to the unpartitioned data set. */
export function splitQualifiedId(qualified: string): { partition: string; id: string } {
  const at = qualified.indexOf(PARTITION_SEPARATOR);
  return at < 0
    ? { partition: UNPARTITIONED, id: qualified }
    : { partition: qualified.slice(0, at), id: qualified.slice(at + 1) };
}

/** A problem of a partition's rows names the partition with the table (`tenant1:dr_rules`). */
export function problemOfPartition(
  partition: string,
  tableNames: DroutingTableNames,
): (problem: RowProblem) => RowProblem {
  if (partition === UNPARTITIONED) return (problem) => problem;
  const actual = new Map(
    Object.entries(DEFAULT_DROUTING_TABLE_NAMES).map(([key, name]) => [
      name,
      tableNames[key as keyof DroutingTableNames],
    ]),
  );
  return (problem) => ({ ...problem, table: qualifiedId(partition, actual.get(problem.table) ?? problem.table) });
}

/** A partition name: what a Request-URI host may be, and never the id separator. */
const PARTITION_NAME = /^[A-Za-z0-9_.\-+~]+$/;

/**
 * The dr_partitions rows as OpenSIPS's get_config_from_db reads them: a
 * NULL or empty db_url is the database of dr_partitions itself, a NULL or
 * empty table name the table's usual name. A row OpenSIPS would load that
 * sip-drouter cannot (a database it has no driver for, a name it cannot
 * key ids by, a name given twice) is an error: the partition's rules would
 * be missing, so the load is refused rather than routing without them.
 */
export function readPartitionDefinitions(
  rows: readonly DrPartitionRow[],
  partitionsUrl: string,
  problems: LoadProblems,
): PartitionDefinition[] {
  const definitions: PartitionDefinition[] = [];
  const named = new Map<string, DrPartitionRow>();
  for (const row of rows) {
    const error = (column: string, why: string) => problems.error(drPartitionsTable, row, column, why);
    const first = named.get(row.partition_name);
    const url = storeUrlOf(row.db_url, partitionsUrl);
    if (!PARTITION_NAME.test(row.partition_name))
      error(
        'partition_name',
        'a partition name is letters, digits and _ . - + ~ (it is matched against Request-URI hosts and qualifies gateway ids as name:gwid)',
      );
    else if (first) error('partition_name', `partition ${row.partition_name} is also row id=${first.id}`);
    else if (!url.ok) error('db_url', url.error);
    else {
      named.set(row.partition_name, row);
      definitions.push({ name: row.partition_name, url: url.url, tables: tableNamesOf(row) });
    }
  }
  return definitions;
}

function tableNamesOf(row: DrPartitionRow): DroutingTableNames {
  const or = (name: string | null, usual: string) => (name === null || name.trim() === '' ? usual : name.trim());
  return {
    gateways: or(row.drd_table, DEFAULT_DROUTING_TABLE_NAMES.gateways),
    rules: or(row.drr_table, DEFAULT_DROUTING_TABLE_NAMES.rules),
    groups: or(row.drg_table, DEFAULT_DROUTING_TABLE_NAMES.groups),
    carriers: or(row.drc_table, DEFAULT_DROUTING_TABLE_NAMES.carriers),
  };
}

/** OpenSIPS's db_url as a store URL: mysql:// as it is; db_sqlite's sqlite:///PATH (or sqlite:PATH) as sqlite:PATH. */
export function storeUrlOf(
  dbUrl: string | null,
  partitionsUrl: string,
): { ok: true; url: string } | { ok: false; error: string } {
  const url = (dbUrl ?? '').trim();
  if (url === '') return { ok: true, url: partitionsUrl };
  if (url.startsWith('mysql://')) return { ok: true, url };
  if (url.startsWith('sqlite://')) return { ok: true, url: `sqlite:${url.slice('sqlite://'.length)}` };
  if (url.startsWith('sqlite:')) return { ok: true, url };
  const scheme = /^([a-z0-9+.-]+):/i.exec(url)?.[1];
  return {
    ok: false,
    error: `${scheme ? `a ${scheme} database` : 'this URL'} cannot be read: sip-drouter reads mysql:// (MySQL, MariaDB) and sqlite: databases`,
  };
}

export interface PartitionChoiceOptions {
  /** routing.partitions.default: the partition of a request that names none. */
  defaultPartition: string | null;
  /** routing.partitions.byDomain: a Request-URI host that is a partition's name picks it. */
  byDomain: boolean;
}

export type PartitionChoice = { ok: true; name: string; detail: string } | { ok: false; detail: string };

/** Which partition routes a request: the one asked for (CLI, admin API), else its Request-URI host's, else the default. */
export function choosePartition(
  partitions: ReadonlySet<string> | ReadonlyMap<string, unknown>,
  request: { partition?: string | undefined; host?: string | undefined },
  options: PartitionChoiceOptions,
): PartitionChoice {
  if (request.partition !== undefined) {
    return partitions.has(request.partition)
      ? { ok: true, name: request.partition, detail: `partition ${request.partition} given` }
      : { ok: false, detail: `no partition ${request.partition} in dr_partitions` };
  }
  const host = request.host?.toLowerCase();
  if (options.byDomain && host !== undefined) {
    for (const name of partitions.keys())
      if (name.toLowerCase() === host)
        return { ok: true, name, detail: `the Request-URI host ${request.host} is partition ${name}` };
  }
  const byHost =
    options.byDomain && host !== undefined
      ? `the Request-URI host ${request.host} names no partition`
      : 'no partition named by the request';
  if (options.defaultPartition === null)
    return { ok: false, detail: `${byHost} and routing.partitions.default is none` };
  if (!partitions.has(options.defaultPartition))
    return {
      ok: false,
      detail: `${byHost}, and routing.partitions.default ${options.defaultPartition} is not in dr_partitions`,
    };
  return {
    ok: true,
    name: options.defaultPartition,
    detail: `${byHost}: routing.partitions.default ${options.defaultPartition}`,
  };
}
