import type { Clock } from '../clock.js';
import { RoutingDataError, type RowProblem } from '../errors.js';
import type { RoutingRowStream } from '../core/model/routing-rows.js';
import { DEFAULT_DROUTING_TABLE_NAMES, type DroutingTableNames } from '../core/model/table-layouts.js';
import { type RoutingBuild, type RoutingBuildOptions, RoutingTableBuilder } from './core/build-routing-table.js';
import {
  choosePartition,
  PARTITION_SEPARATOR,
  type PartitionChoiceOptions,
  type PartitionDefinition,
  problemOfPartition,
  qualifiedId,
  UNPARTITIONED,
} from './core/partitions.js';
import { decideRoute, notRouted, type RouteDecision, type RouteRequest } from './core/route-call.js';
import type { Carrier, Gateway, GatewayState, RoutingDestinations, RoutingTable } from './core/routing-table.js';

/**
 * Holds the current routing snapshot: loads it from the store, rebuilds it
 * beside the old one on reload and swaps one reference. A decision keeps
 * the table it was made with, so a call in flight is not touched by a
 * reload. Gateway state comes from outside (the probe's state service),
 * as a function of the gateway.
 */

export interface RoutingServiceOptions {
  build: RoutingBuildOptions;
  defaultGroup: number | null;
  strictLength: boolean;
  ruleFallback: boolean;
  /** How a request picks its partition; null when partitions are off. */
  partitions: PartitionChoiceOptions | null;
}

/** The store's own drouting tables: one data set. */
export interface RoutingRowSource {
  streamRoutingRows(): Promise<RoutingRowStream>;
}

/** dr_partitions: one data set per partition, each read from its own tables (routing.partitions). */
export interface PartitionedRowSource {
  /** The partitions as dr_partitions defines them now, and the rows of it that name none sip-drouter can read. */
  readPartitions(): Promise<{ definitions: PartitionDefinition[]; errors: RowProblem[] }>;
  streamPartition(definition: PartitionDefinition): Promise<RoutingRowStream>;
}

export interface RoutingSnapshot {
  /** Each partition's table by name; without partitions, one named '' (UNPARTITIONED). */
  readonly tables: ReadonlyMap<string, RoutingTable>;
  /** The gateways and carriers of every partition, by their ids (qualified `partition:id` with partitions). */
  readonly destinations: RoutingDestinations;
  readonly counts: ReloadReport['counts'];
  readonly generation: number;
  readonly loadedAt: Date;
  /** The rows left out of this snapshot, as OpenSIPS 3.x leaves them out. */
  readonly skipped: readonly RowProblem[];
  readonly warnings: readonly RowProblem[];
}

export interface ReloadReport {
  ok: boolean;
  /** Generation in use after this reload (unchanged when it failed). */
  generation: number;
  durationMs: number;
  counts: { gateways: number; carriers: number; rules: number; callers: number };
  /** Rows left out of the new snapshot (or, when it was refused with routing.strict, the rows that refused it too). */
  skipped: RowProblem[];
  warnings: RowProblem[];
  errors: RowProblem[];
}

/** Where the live gateway and carrier states come from (the probe's state services). */
export interface LiveState {
  gatewayState?: (gateway: Gateway) => GatewayState;
  carrierEnabled?: (carrier: Carrier) => boolean;
}

const storedState = (gateway: Gateway): GatewayState => gateway.storedState;

export type RouteQuery = Pick<RouteRequest, 'number' | 'requestUri' | 'caller' | 'group' | 'whitelist'> &
  Partial<Pick<RouteRequest, 'at' | 'strictLength' | 'ruleFallback' | 'explain'>> & {
    /** The partition to route in (`drouter route --partition`); else as routing.partitions picks it. */
    partition?: string | undefined;
  };

interface TablesBuild {
  tables: Map<string, RoutingTable>;
  errors: RowProblem[];
  skipped: RowProblem[];
  warnings: RowProblem[];
}

export class RoutingService {
  private snapshot: RoutingSnapshot | undefined;
  private reloadChain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly source: RoutingRowSource | PartitionedRowSource,
    private readonly options: RoutingServiceOptions,
    private readonly clock: Clock,
    /** The live states; without them, the state columns and flags as loaded. */
    private readonly live: LiveState = {},
    private readonly random: () => number = Math.random,
  ) {}

  /** The first load: throws RoutingDataError listing every error when the data does not build. */
  async load(): Promise<ReloadReport> {
    const report = await this.reload();
    if (!report.ok) throw new RoutingDataError(report.errors);
    return report;
  }

  /** Rebuilds from the store; on any error the current snapshot stays. Reloads run one at a time. */
  reload(): Promise<ReloadReport> {
    const next = this.reloadChain.then(() => this.rebuild());
    this.reloadChain = next.catch(() => undefined);
    return next;
  }

  get current(): RoutingSnapshot {
    if (!this.snapshot) throw new Error('routing: no snapshot loaded yet (load() first)');
    return this.snapshot;
  }

  route(query: RouteQuery): RouteDecision {
    const { tables } = this.current;
    let partition = UNPARTITIONED;
    let chosen: { name: string; detail: string } | undefined;
    if (this.options.partitions) {
      const choice = choosePartition(
        tables,
        { partition: query.partition, host: query.requestUri?.host },
        this.options.partitions,
      );
      if (!choice.ok) return notRouted(query.number, choice.detail);
      partition = choice.name;
      chosen = { name: choice.name, detail: choice.detail };
    } else if (query.partition !== undefined) {
      return notRouted(query.number, `no partition ${query.partition}: routing.partitions.enabled is false`);
    }
    const table = tables.get(partition);
    if (!table) return notRouted(query.number, `no partition ${partition} in the snapshot`);
    const decision = decideRoute(table, {
      number: query.number,
      requestUri: query.requestUri,
      caller: query.caller,
      group: query.group,
      // A whitelist names ids as the partition's rows do; the table knows them qualified.
      whitelist:
        chosen && query.whitelist
          ? new Set(
              [...query.whitelist].map((id) => (id.includes(PARTITION_SEPARATOR) ? id : qualifiedId(partition, id))),
            )
          : query.whitelist,
      defaultGroup: this.options.defaultGroup,
      strictLength: query.strictLength ?? this.options.strictLength,
      ruleFallback: query.ruleFallback ?? this.options.ruleFallback,
      explain: query.explain ?? true,
      at: query.at ?? this.clock.now(),
      random: this.random,
      gatewayState: this.live.gatewayState ?? storedState,
      carrierEnabled: this.live.carrierEnabled,
    });
    if (chosen) decision.partition = chosen;
    return decision;
  }

  private async rebuild(): Promise<ReloadReport> {
    const startedAt = performance.now();
    const built = await this.buildTables();
    const durationMs = performance.now() - startedAt;
    const { errors, skipped, warnings } = built;
    if (errors.length > 0) {
      return {
        ok: false,
        generation: this.snapshot?.generation ?? 0,
        durationMs,
        counts: this.snapshot?.counts ?? countsOf(undefined),
        skipped,
        warnings,
        errors,
      };
    }
    const generation = (this.snapshot?.generation ?? 0) + 1;
    const counts = countsOf(built.tables);
    this.snapshot = {
      tables: built.tables,
      destinations: destinationsOf(built.tables),
      counts,
      generation,
      loadedAt: this.clock.now(),
      skipped,
      warnings,
    };
    return { ok: true, generation, durationMs, counts, skipped, warnings, errors: [] };
  }

  /** Every data set built, one after the other (a partition's million rules are not read while another's are). */
  private async buildTables(): Promise<TablesBuild> {
    const source = this.source;
    const result: TablesBuild = { tables: new Map(), errors: [], skipped: [], warnings: [] };
    const add = (name: string, tableNames: DroutingTableNames, build: RoutingBuild) => {
      const named = problemOfPartition(name, tableNames);
      result.errors.push(...(build.ok ? [] : build.errors).map(named));
      result.skipped.push(...build.skipped.map(named));
      result.warnings.push(...build.warnings.map(named));
      if (build.ok) result.tables.set(name, build.table);
    };
    if (!('readPartitions' in source)) {
      add(
        UNPARTITIONED,
        DEFAULT_DROUTING_TABLE_NAMES,
        await this.buildOne(await source.streamRoutingRows(), UNPARTITIONED),
      );
      return result;
    }
    const { definitions, errors } = await source.readPartitions();
    result.errors.push(...errors);
    for (const definition of definitions)
      add(
        definition.name,
        definition.tables,
        await this.buildOne(await source.streamPartition(definition), definition.name),
      );
    return result;
  }

  private async buildOne(stream: RoutingRowStream, partition: string): Promise<RoutingBuild> {
    const { rulePages, ...base } = stream;
    const builder = new RoutingTableBuilder(base, this.options.build, partition);
    for await (const page of rulePages) builder.addRules(page.rows, page.problems);
    return builder.finish();
  }
}

/** With one data set, its own maps; with partitions, every partition's in one (their ids are qualified, so none collide). */
function destinationsOf(tables: ReadonlyMap<string, RoutingTable>): RoutingDestinations {
  const only = tables.size === 1 ? tables.get(UNPARTITIONED) : undefined;
  if (only) return { gateways: only.gateways, carriers: only.carriers };
  const all = [...tables.values()];
  return {
    gateways: new Map(all.flatMap((table) => [...table.gateways])),
    carriers: new Map(all.flatMap((table) => [...table.carriers])),
  };
}

function countsOf(tables: ReadonlyMap<string, RoutingTable> | undefined): ReloadReport['counts'] {
  const counts = { gateways: 0, carriers: 0, rules: 0, callers: 0 };
  for (const table of tables?.values() ?? []) {
    counts.gateways += table.gateways.size;
    counts.carriers += table.carriers.size;
    counts.rules += table.rules.count;
    counts.callers += table.callerGroups.size;
  }
  return counts;
}
