import type { RowProblem } from '../../errors.js';
import { decodeRows } from '../../core/model/decode-rows.js';
import { drPartitionsTable, type DrPartitionRow } from '../../core/model/partitions-table.js';
import type { RoutingRowStream } from '../../core/model/routing-rows.js';
import { LoadProblems } from '../../routing/core/load-problems.js';
import { type PartitionDefinition, readPartitionDefinitions, splitQualifiedId } from '../../routing/core/partitions.js';
import type { RoutingConfig } from '../../config/schema.js';
import type { PartitionedRowSource, RoutingRowSource } from '../../routing/routing-service.js';
import type { Store } from '../store.js';
import { type KnexHandle, openKnex } from './connect.js';
import { KnexStore } from './knex-store.js';
import { guardStoreQuery } from './query-guard.js';

export interface PartitionStoresOptions {
  /** routing.partitions.table */
  table: string;
  /** The database of dr_partitions (routing.partitions.url, or the store's); a partition with no db_url reads its tables there too. */
  url: string;
}

/**
 * The databases of the dr_partitions partitions (routing.partitions): the
 * table read at every load, one connection per distinct database URL,
 * opened when a partition first names it and closed when none does any
 * more. Gateway and carrier states, keyed `partition:id`, are written back
 * to their own partition's tables.
 */
export class PartitionStores implements PartitionedRowSource, Pick<Store, 'writeGatewayStates' | 'writeCarrierState'> {
  private readonly handles = new Map<string, Promise<KnexHandle>>();
  /** The store reading each partition's tables, by partition name, as of the last readPartitions. */
  private stores = new Map<string, KnexStore>();

  constructor(private readonly options: PartitionStoresOptions) {}

  async readPartitions(): Promise<{ definitions: PartitionDefinition[]; errors: RowProblem[] }> {
    const { rows, problems } = await this.readPartitionRows();
    const load = new LoadProblems();
    const definitions = readPartitionDefinitions(rows, this.options.url, load);
    const stores = new Map<string, KnexStore>();
    for (const definition of definitions)
      stores.set(definition.name, new KnexStore(await this.handleFor(definition.url), definition.tables));
    this.stores = stores;
    await this.closeUnused(new Set([this.options.url, ...definitions.map((definition) => definition.url)]));
    return { definitions, errors: [...problems, ...load.errors] };
  }

  streamPartition(definition: PartitionDefinition): Promise<RoutingRowStream> {
    const store = this.stores.get(definition.name);
    if (!store) throw new Error(`partition ${definition.name}: streamPartition before readPartitions named it`);
    return store.streamRoutingRows();
  }

  async writeGatewayStates(states: ReadonlyMap<string, number>): Promise<void> {
    for (const [partition, own] of byPartition(states)) await this.stores.get(partition)?.writeGatewayStates(own);
  }

  async writeCarrierState(carrierid: string, state: number): Promise<void> {
    const { partition, id } = splitQualifiedId(carrierid);
    await this.stores.get(partition)?.writeCarrierState(id, state);
  }

  async close(): Promise<void> {
    this.stores.clear();
    await this.closeUnused(new Set());
  }

  private async readPartitionRows(): Promise<{ rows: DrPartitionRow[]; problems: RowProblem[] }> {
    const { knex, displayUrl } = await this.handleFor(this.options.url);
    const records = await guardStoreQuery(displayUrl, () =>
      knex(this.options.table)
        .select(drPartitionsTable.columns.map((column) => column.name))
        .orderBy(drPartitionsTable.keyColumn),
    );
    return decodeRows(drPartitionsTable, records as Record<string, unknown>[]);
  }

  private handleFor(url: string): Promise<KnexHandle> {
    let handle = this.handles.get(url);
    if (!handle) {
      handle = openKnex(url);
      this.handles.set(url, handle);
      // A database that could not be opened is tried again at the next load.
      handle.catch(() => this.handles.delete(url));
    }
    return handle;
  }

  private async closeUnused(used: ReadonlySet<string>): Promise<void> {
    for (const [url, handle] of [...this.handles]) {
      if (used.has(url)) continue;
      this.handles.delete(url);
      await handle.then((opened) => opened.knex.destroy()).catch(() => undefined);
    }
  }
}

/** `partition:gwid` → state, split per partition with the partition's own ids. */
function byPartition(states: ReadonlyMap<string, number>): Map<string, Map<string, number>> {
  const split = new Map<string, Map<string, number>>();
  for (const [qualified, state] of states) {
    const { partition, id } = splitQualifiedId(qualified);
    let own = split.get(partition);
    if (!own) split.set(partition, (own = new Map<string, number>()));
    own.set(id, state);
  }
  return split;
}

/** Where routing reads its rows and writes gateway and carrier states back, and how that is closed. */
export interface RoutingData {
  source: RoutingRowSource | PartitionedRowSource;
  states: Pick<Store, 'writeGatewayStates' | 'writeCarrierState'>;
  close(): Promise<void>;
}

/** The store's own drouting tables, or with routing.partitions.enabled those of every dr_partitions partition. */
export function routingDataOf(
  store: KnexStore,
  storeUrl: string,
  partitions: Readonly<RoutingConfig['partitions']>,
): RoutingData {
  if (!partitions.enabled) return { source: store, states: store, close: async () => undefined };
  const stores = new PartitionStores({
    table: partitions.table,
    url: partitions.url === '' ? storeUrl : partitions.url,
  });
  return { source: stores, states: stores, close: () => stores.close() };
}
