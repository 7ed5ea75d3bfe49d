import type { CarrierStateCache } from '../cache/cache.js';
import type { Logger } from '../log.js';
import type { Carrier, RoutingDestinations } from '../routing/core/routing-table.js';
import type { Store } from '../store/store.js';

export interface CarrierStateDeps {
  cache: CarrierStateCache;
  store: Pick<Store, 'writeCarrierState'>;
  log: Logger;
  /** Write each change to dr_carriers.state (probe.persistState). */
  persistState: boolean;
}

/**
 * Carriers an operator enabled or disabled at run time (OpenSIPS
 * carrier_status), over the flags and state column they were loaded with.
 * Shared through the cache like gateway states; with persistState each
 * change is also written to dr_carriers.state (0 enabled, 1 disabled).
 */
export class CarrierStateService {
  private readonly overrides = new Map<string, boolean>();

  constructor(private readonly deps: CarrierStateDeps) {}

  readonly enabledOf = (carrier: Carrier): boolean => this.overrides.get(carrier.carrierid) ?? carrier.enabled;

  /** Takes on a (re)loaded table: with `inheritState` false the loaded flags and column win again. */
  async adopt(table: RoutingDestinations, options: { inheritState: boolean }): Promise<void> {
    const shared = await this.deps.cache.getCarrierStates();
    const dropped = [...shared.keys()].filter((carrierid) => !options.inheritState || !table.carriers.has(carrierid));
    if (dropped.length > 0) await this.deps.cache.deleteCarrierStates(dropped);
    this.overrides.clear();
    for (const [carrierid, enabled] of shared) if (!dropped.includes(carrierid)) this.overrides.set(carrierid, enabled);
  }

  async set(carrier: Carrier, enabled: boolean): Promise<void> {
    await this.deps.cache.setCarrierState(carrier.carrierid, enabled);
    this.overrides.set(carrier.carrierid, enabled);
    if (this.deps.persistState) await this.deps.store.writeCarrierState(carrier.carrierid, enabled ? 0 : 1);
    this.deps.log.info(
      { carrier: carrier.carrierid, enabled },
      `carrier ${carrier.carrierid} ${enabled ? 'enabled' : 'disabled'} by admin`,
    );
  }

  /** Takes the states other nodes shared. */
  async refresh(): Promise<void> {
    const shared = await this.deps.cache.getCarrierStates();
    this.overrides.clear();
    for (const [carrierid, enabled] of shared) this.overrides.set(carrierid, enabled);
  }
}
