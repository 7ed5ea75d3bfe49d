import type { Clock } from '../clock.js';
import { RoutingDataError, type RowProblem } from '../errors.js';
import type { RoutingRowStream } from '../model/routing-rows.js';
import { type RoutingBuildOptions, RoutingTableBuilder } from './build-routing-table.js';
import { decideRoute, type RouteDecision, type RouteRequest } from './route-call.js';
import type { Gateway, GatewayState, RoutingTable } from './routing-table.js';

/**
 * Holds the current routing snapshot: loads it from the store, rebuilds it
 * beside the old one on reload and swaps one reference. A decision keeps
 * the table it was made with, so a call in flight is not touched by a
 * reload. Gateway state carries over by gwid.
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
  readonly warnings: readonly RowProblem[];
}

export interface ReloadReport {
  ok: boolean;
  /** Generation in use after this reload (unchanged when it failed). */
  generation: number;
  durationMs: number;
  counts: { gateways: number; carriers: number; rules: number; callers: number };
  warnings: RowProblem[];
  errors: RowProblem[];
}

export type RouteQuery = Pick<RouteRequest, 'number' | 'requestUri' | 'caller' | 'group' | 'whitelist'> &
  Partial<Pick<RouteRequest, 'at' | 'strictLength' | 'ruleFallback' | 'explain'>>;

export class RoutingService {
  private snapshot: RoutingSnapshot | undefined;
  private readonly states = new Map<string, GatewayState>();
  private reloadChain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: { streamRoutingRows(): Promise<RoutingRowStream> },
    private readonly options: RoutingServiceOptions,
    private readonly clock: Clock,
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

  /** The live state of a gateway: carried over reloads, the stored column for a new one. */
  readonly gatewayState = (gateway: Gateway): GatewayState => this.states.get(gateway.gwid) ?? gateway.storedState;

  /**
   * Passive failure marking (OpenSIPS dr_disable): a call that got no answer
   * in time takes an active gateway down. Only gateways the prober watches
   * (probe_mode 1 or 2) are marked, since only probing brings one back.
   * Returns whether the state changed.
   */
  markGatewayDown(gwid: string): boolean {
    const gateway = this.snapshot?.table.gateways.get(gwid);
    if (!gateway || gateway.probeMode === 0 || this.gatewayState(gateway) !== 'active') return false;
    this.states.set(gwid, 'probing-disabled');
    return true;
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
      gatewayState: this.gatewayState,
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
      return { ok: false, generation: this.snapshot?.generation ?? 0, durationMs, counts: countsOf(this.snapshot?.table), warnings: built.warnings, errors: built.errors };
    }
    this.carryOverStates(built.table);
    const generation = (this.snapshot?.generation ?? 0) + 1;
    this.snapshot = { table: built.table, generation, loadedAt: this.clock.now(), warnings: built.warnings };
    return { ok: true, generation, durationMs, counts: countsOf(built.table), warnings: built.warnings, errors: [] };
  }

  private carryOverStates(table: RoutingTable): void {
    for (const gwid of [...this.states.keys()]) if (!table.gateways.has(gwid)) this.states.delete(gwid);
    for (const [gwid, gateway] of table.gateways) if (!this.states.has(gwid)) this.states.set(gwid, gateway.storedState);
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
