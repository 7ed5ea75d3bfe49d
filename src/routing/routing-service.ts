import type { Clock } from '../clock.js';
import { RoutingDataError, type RowProblem } from '../errors.js';
import type { RoutingRowStream } from '../model/routing-rows.js';
import { type RoutingBuildOptions, RoutingTableBuilder } from './build-routing-table.js';
import { decideRoute, type RouteDecision, type RouteRequest } from './route-call.js';
import type { Carrier, Gateway, GatewayState, RoutingTable } from './routing-table.js';

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
}

export interface RoutingSnapshot {
  readonly table: RoutingTable;
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
  Partial<Pick<RouteRequest, 'at' | 'strictLength' | 'ruleFallback' | 'explain'>>;

export class RoutingService {
  private snapshot: RoutingSnapshot | undefined;
  private reloadChain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: { streamRoutingRows(): Promise<RoutingRowStream> },
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
    return decideRoute(this.current.table, {
      number: query.number,
      requestUri: query.requestUri,
      caller: query.caller,
      group: query.group,
      whitelist: query.whitelist,
      defaultGroup: this.options.defaultGroup,
      strictLength: query.strictLength ?? this.options.strictLength,
      ruleFallback: query.ruleFallback ?? this.options.ruleFallback,
      explain: query.explain ?? true,
      at: query.at ?? this.clock.now(),
      random: this.random,
      gatewayState: this.live.gatewayState ?? storedState,
      carrierEnabled: this.live.carrierEnabled,
    });
  }

  private async rebuild(): Promise<ReloadReport> {
    const startedAt = performance.now();
    const { rulePages, ...base } = await this.store.streamRoutingRows();
    const builder = new RoutingTableBuilder(base, this.options.build);
    for await (const page of rulePages) builder.addRules(page.rows, page.problems);
    const built = builder.finish();
    const durationMs = performance.now() - startedAt;
    if (!built.ok) {
      return { ok: false, generation: this.snapshot?.generation ?? 0, durationMs, counts: countsOf(this.snapshot?.table), skipped: built.skipped, warnings: built.warnings, errors: built.errors };
    }
    const generation = (this.snapshot?.generation ?? 0) + 1;
    this.snapshot = { table: built.table, generation, loadedAt: this.clock.now(), skipped: built.skipped, warnings: built.warnings };
    return { ok: true, generation, durationMs, counts: countsOf(built.table), skipped: built.skipped, warnings: built.warnings, errors: [] };
  }
}

function countsOf(table: RoutingTable | undefined): ReloadReport['counts'] {
  return {
    gateways: table?.gateways.size ?? 0,
    carriers: table?.carriers.size ?? 0,
    rules: table?.ruleCount ?? 0,
    callers: table?.callerGroups.size ?? 0,
  };
}
