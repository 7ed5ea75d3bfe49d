import type { GatewayStateCache } from '../cache/cache.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { throttledReport } from '../core/report-throttle.js';
import {
  COLUMN_BY_GATEWAY_STATE,
  type Gateway,
  type GatewayState,
  type RoutingDestinations,
} from '../routing/core/routing-table.js';
import type { Store } from '../store/store.js';
import {
  type GatewayHealth,
  type HealthEvent,
  type HealthRules,
  initialHealth,
  nextHealth,
  type StateChange,
} from './core/gateway-health.js';
import { errorMessage } from '../errors.js';

/** The state changes kept for `GET /events` (OpenSIPS keeps 200 too). */
export const HISTORY_SIZE = 200;

/** What the metrics learn from the state service. */
export interface GatewayStateObserver {
  gatewayState(gwid: string, state: GatewayState): void;
  gatewayStateChanged(gwid: string, state: GatewayState): void;
  forgetGateway(gwid: string): void;
}

export interface GatewayStateOptions extends HealthRules {
  /** Start from (and write back to) dr_gateways.state; otherwise every gateway starts active. */
  persistState: boolean;
  persistIntervalMs: number;
}

export interface GatewayStateDeps {
  cache: GatewayStateCache;
  store: Pick<Store, 'writeGatewayStates'>;
  clock: Clock;
  log: Logger;
  observer: GatewayStateObserver;
  options: GatewayStateOptions;
}

/**
 * The live health of every gateway. Routing reads it synchronously from a
 * local copy; every change goes to the cache (shared by the nodes of a
 * pair, which read each other's changes on `refresh`), to the history, to
 * the metrics, and, with `persistState`, to dr_gateways.state in batches.
 * A cache or database that fails loses no state here: the local copy
 * stays right and the failure is logged.
 */
/** How often a cache outage is said, at most. */
const CACHE_REPORT_MS = 30_000;

export class GatewayStateService {
  private readonly health = new Map<string, GatewayHealth>();
  private table: RoutingDestinations | undefined;
  /** Gateways whose state column is behind (persistState). */
  private readonly unsaved = new Set<string>();
  /** A cache outage fails every refresh and every change: said once per interval. */
  private readonly cacheReports = throttledReport(CACHE_REPORT_MS, () => this.deps.clock.now().getTime());
  private persistTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: GatewayStateDeps) {}

  /** The state routing uses: the live one, or the start state of a gateway not adopted yet. */
  readonly stateOf = (gateway: Gateway): GatewayState =>
    this.health.get(gateway.gwid)?.state ?? this.startState(gateway);

  healthOf(gwid: string): GatewayHealth | undefined {
    return this.health.get(gwid);
  }

  /**
   * Takes on a (re)loaded routing table. A gateway the cache already knows
   * keeps that state (another node's, or this node's before a reload)
   * unless `inheritState` is false, in which case dr_gateways.state wins
   * (OpenSIPS `inherit_state`); a new gateway starts from its column.
   * Gateways gone from the table are forgotten.
   */
  async adopt(table: RoutingDestinations, options: { inheritState: boolean }): Promise<void> {
    this.table = table;
    const now = this.deps.clock.now().getTime();
    const shared = await this.readShared();
    for (const gwid of [...this.health.keys()]) {
      if (table.gateways.has(gwid)) continue;
      this.health.delete(gwid);
      this.unsaved.delete(gwid);
      this.deps.observer.forgetGateway(gwid);
    }
    const gone = [...(shared?.keys() ?? [])].filter((gwid) => !table.gateways.has(gwid));
    if (gone.length > 0) await this.writeShared('deleteGatewayHealth', (cache) => cache.deleteGatewayHealth(gone));
    for (const [gwid, gateway] of table.gateways) {
      const known = shared?.get(gwid) ?? this.health.get(gwid);
      if (known && options.inheritState) {
        this.health.set(gwid, known);
        this.deps.observer.gatewayState(gwid, known.state);
        continue;
      }
      const state = this.startState(gateway);
      const reason = this.deps.options.persistState
        ? `dr_gateways.state is ${COLUMN_BY_GATEWAY_STATE[state]}`
        : 'start (probe.persistState off)';
      const fresh = initialHealth(state, reason, now);
      if (known && known.state !== state) await this.change(gwid, known, fresh);
      else if (!known) {
        this.health.set(gwid, fresh);
        await this.writeShared('setGatewayHealth', (cache) => cache.setGatewayHealth(gwid, fresh));
      }
      this.deps.observer.gatewayState(gwid, state);
    }
  }

  /** Feeds one event (probe outcome, call timeout, admin action); returns the change it made, if any. */
  async apply(gateway: Gateway, event: HealthEvent): Promise<StateChange | undefined> {
    const now = this.deps.clock.now().getTime();
    const before = this.health.get(gateway.gwid) ?? initialHealth(this.stateOf(gateway), 'start', now);
    const after = nextHealth(before, event, gateway.probeMode, this.deps.options, now);
    if (after === before) return undefined;
    return this.change(gateway.gwid, before, after);
  }

  /** Takes the states other nodes wrote to the shared cache. */
  async refresh(): Promise<void> {
    const shared = await this.readShared();
    if (!shared) return;
    for (const [gwid, health] of shared) {
      const mine = this.health.get(gwid);
      if (!mine || !this.table?.gateways.has(gwid)) continue;
      this.health.set(gwid, health);
      if (mine.state !== health.state) this.deps.observer.gatewayState(gwid, health.state);
    }
  }

  /** The newest `limit` state changes, newest first. */
  history(limit: number): Promise<StateChange[]> {
    return this.deps.cache.stateChanges(Math.min(limit, HISTORY_SIZE));
  }

  /** Writes the changed state columns every `persistIntervalMs` (persistState). */
  startPersisting(): void {
    if (!this.deps.options.persistState || this.persistTimer) return;
    const tick = async () => {
      await this.persist();
      this.persistTimer = setTimeout(() => void tick(), this.deps.options.persistIntervalMs);
    };
    this.persistTimer = setTimeout(() => void tick(), this.deps.options.persistIntervalMs);
  }

  /** Stops the timer and writes what is still unsaved. */
  async stop(): Promise<void> {
    clearTimeout(this.persistTimer);
    this.persistTimer = undefined;
    await this.persist();
  }

  private startState(gateway: Gateway): GatewayState {
    return this.deps.options.persistState ? gateway.storedState : 'active';
  }

  private async change(gwid: string, before: GatewayHealth, after: GatewayHealth): Promise<StateChange | undefined> {
    this.health.set(gwid, after);
    await this.writeShared('setGatewayHealth', (cache) => cache.setGatewayHealth(gwid, after));
    if (after.state === before.state) return undefined;
    const change: StateChange = { gwid, from: before.state, to: after.state, reason: after.reason, at: after.since };
    this.deps.observer.gatewayState(gwid, after.state);
    this.deps.observer.gatewayStateChanged(gwid, after.state);
    if (this.deps.options.persistState) this.unsaved.add(gwid);
    const log =
      after.state === 'active' ? this.deps.log.info.bind(this.deps.log) : this.deps.log.warn.bind(this.deps.log);
    log(
      { gateway: gwid, from: before.state, to: after.state, reason: after.reason },
      `gateway ${gwid}: ${before.state} → ${after.state} (${after.reason})`,
    );
    await this.writeShared('addStateChange', (cache) => cache.addStateChange(change, HISTORY_SIZE));
    return change;
  }

  private async persist(): Promise<void> {
    if (this.unsaved.size === 0) return;
    const states = new Map(
      [...this.unsaved].flatMap((gwid) => {
        const health = this.health.get(gwid);
        return health ? [[gwid, COLUMN_BY_GATEWAY_STATE[health.state]] as const] : [];
      }),
    );
    this.unsaved.clear();
    try {
      await this.deps.store.writeGatewayStates(states);
    } catch (error) {
      // Next time, unless a newer change is queued already.
      for (const gwid of states.keys()) this.unsaved.add(gwid);
      this.deps.log.error(
        { err: error },
        `gateway states not written to dr_gateways.state (kept for the next try): ${errorMessage(error)}`,
      );
    }
  }

  private async readShared(): Promise<Map<string, GatewayHealth> | undefined> {
    try {
      return await this.deps.cache.getGatewayHealth();
    } catch (error) {
      this.cacheReports((since) =>
        this.deps.log.warn(
          { err: error },
          `gateway states not read from the cache (this node's own stay in use): ${errorMessage(error)}${since}`,
        ),
      );
      return undefined;
    }
  }

  private async writeShared(operation: string, write: (cache: GatewayStateCache) => Promise<void>): Promise<void> {
    try {
      await write(this.deps.cache);
    } catch (error) {
      this.cacheReports((since) =>
        this.deps.log.warn({ err: error }, `gateway state not shared (${operation}): ${errorMessage(error)}${since}`),
      );
    }
  }
}
