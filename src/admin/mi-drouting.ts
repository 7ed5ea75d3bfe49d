import type { Clock } from '../clock.js';
import { errorMessage, formatRowProblem } from '../errors.js';
import type { CarrierStateService } from '../probe/carrier-state-service.js';
import type { GatewayStateService } from '../probe/gateway-state-service.js';
import type { Prober } from '../probe/prober-service.js';
import { matchNumber } from '../routing/core/match-number.js';
import { qualifiedId, UNPARTITIONED } from '../routing/core/partitions.js';
import type { ReloadReport, RoutingService } from '../routing/routing-service.js';
import type { RoutingTable } from '../routing/core/routing-table.js';
import {
  ctime,
  miCarrierList,
  miCarrierStatus,
  miGatewayList,
  miGatewayStatus,
  miNumberRouting,
} from './mi-drouting-shapes.js';
import { type MiCommand, MiError, type MiParams } from './mi-http.js';

/**
 * OpenSIPS 3.5.9 drouting's MI commands (drouting.c mi_cmds[]) on our live
 * routing, gateway and carrier state: their names, parameter sets, answers
 * and error codes and messages, so that scripts and panels written for
 * OpenSIPS's mi_http work against us. Where we differ, docs/admin-api.md
 * ("OpenSIPS MI over HTTP") says how and why.
 */

export interface MiDroutingDeps {
  routing: Pick<RoutingService, 'current'>;
  gateways: Pick<GatewayStateService, 'stateOf' | 'apply'>;
  carriers: Pick<CarrierStateService, 'enabledOf' | 'set'>;
  prober: Pick<Prober, 'enabled' | 'setEnabled'>;
  reload(options: { inheritState?: boolean }): Promise<ReloadReport>;
  clock: Clock;
  /** routing.partitions.enabled: OpenSIPS's use_partitions. */
  partitioned: boolean;
  /** routing.defaultGroup: dr_number_routing's group when the call names none. */
  defaultGroup: number | null;
}

/** init_mi_result_ok's result. */
const OK = 'OK';

const PARTITION = 'partition_name';

export function droutingMiCommands(deps: MiDroutingDeps): ReadonlyMap<string, MiCommand> {
  /**
   * mi_dr_get_partition and its callers' checks: partition_name only with
   * partitions, and then required by the commands that work on one
   * (`required`); dr_reload without it reloads them all.
   */
  function partitionOf(params: MiParams, required: boolean): string {
    if (params.has(PARTITION)) {
      if (!deps.partitioned)
        throw new MiError(
          400,
          `Invalid parameter: '${PARTITION}'`,
          `'${PARTITION}' supported only when 'use_partitions' is set`,
        );
      const name = params.string(PARTITION);
      if (!deps.routing.current.tables.has(name)) throw new MiError(404, 'Partition not found');
      return name;
    }
    if (deps.partitioned && required)
      throw new MiError(
        400,
        `Missing parameter: '${PARTITION}'`,
        `'${PARTITION}' is required when 'use_partitions' is set`,
      );
    return UNPARTITIONED;
  }

  function tableOf(partition: string): RoutingTable {
    const table = deps.routing.current.tables.get(partition);
    if (!table) throw new MiError(404, 'No Data available yet');
    return table;
  }

  /** `status`: 0 disables, any other number enables (OpenSIPS tests it as a C int). */
  const enables = (params: MiParams) => params.int('status') !== 0;

  async function reload(params: MiParams): Promise<string> {
    partitionOf(params, false);
    // inherit_state absent (or not y/n/0/1): probe.inheritState, which is OpenSIPS's default y unless set otherwise.
    const inheritState = params.boolLike('inherit_state');
    let report: ReloadReport;
    try {
      report = await deps.reload(inheritState === undefined ? {} : { inheritState });
    } catch (error) {
      throw new MiError(500, 'Failed to reload', errorMessage(error));
    }
    if (!report.ok) throw new MiError(500, 'Failed to reload', report.errors.map(formatRowProblem).join('\n'));
    return OK;
  }

  async function gatewayStatus(params: MiParams): Promise<unknown> {
    const partition = partitionOf(params, true);
    const table = tableOf(partition);
    if (!params.has('gw_id')) return miGatewayList(table.gateways.values(), deps.gateways.stateOf);
    const id = params.string('gw_id');
    const enable = params.has('status') ? enables(params) : undefined;
    const gateway = table.gateways.get(qualifiedId(partition, id));
    if (!gateway) throw new MiError(404, 'GW ID not found');
    if (enable === undefined) return miGatewayStatus(gateway, deps.gateways.stateOf(gateway));
    await deps.gateways.apply(gateway, { kind: 'admin', enable });
    return OK;
  }

  async function carrierStatus(params: MiParams): Promise<unknown> {
    const partition = partitionOf(params, true);
    const table = tableOf(partition);
    if (!params.has('carrier_id')) return miCarrierList(table.carriers.values(), deps.carriers.enabledOf);
    const id = params.string('carrier_id');
    const enable = params.has('status') ? enables(params) : undefined;
    const carrier = table.carriers.get(qualifiedId(partition, id));
    if (!carrier) throw new MiError(404, 'Carrier ID not found');
    if (enable === undefined) return miCarrierStatus(carrier, deps.carriers.enabledOf(carrier));
    if (enable !== deps.carriers.enabledOf(carrier)) await deps.carriers.set(carrier, enable);
    return OK;
  }

  async function numberRouting(params: MiParams): Promise<unknown> {
    const table = tableOf(partitionOf(params, true));
    const group = params.has('group_id') ? params.int('group_id') : deps.defaultGroup;
    const number = params.string('number');
    return miNumberRouting(number, group === null ? undefined : matchNumber(table, number, group, deps.clock.now()));
  }

  async function reloadStatus(params: MiParams): Promise<unknown> {
    const date = ctime(deps.routing.current.loadedAt);
    if (params.has(PARTITION)) return { name: partitionOf(params, false), Date: date };
    if (!deps.partitioned) return { Date: date };
    return { Partitions: [...deps.routing.current.tables.keys()].map((name) => ({ name, Date: date })) };
  }

  async function enableProbing(params: MiParams): Promise<unknown> {
    if (!params.has('status')) return { Status: (await deps.prober.enabled()) ? 1 : 0 };
    await deps.prober.setEnabled(enables(params));
    return OK;
  }

  return new Map<string, MiCommand>([
    [
      'dr_reload',
      { namedOnly: false, recipes: [[], ['inherit_state'], [PARTITION], [PARTITION, 'inherit_state']], run: reload },
    ],
    [
      'dr_gw_status',
      {
        namedOnly: true,
        recipes: [
          [],
          [PARTITION],
          ['gw_id'],
          ['gw_id', 'status'],
          [PARTITION, 'gw_id'],
          [PARTITION, 'gw_id', 'status'],
        ],
        run: gatewayStatus,
      },
    ],
    [
      'dr_carrier_status',
      {
        namedOnly: true,
        recipes: [
          [],
          [PARTITION],
          ['carrier_id'],
          ['carrier_id', 'status'],
          [PARTITION, 'carrier_id'],
          [PARTITION, 'carrier_id', 'status'],
        ],
        run: carrierStatus,
      },
    ],
    [
      'dr_number_routing',
      {
        namedOnly: true,
        recipes: [['number'], ['group_id', 'number'], [PARTITION, 'number'], [PARTITION, 'group_id', 'number']],
        run: numberRouting,
      },
    ],
    ['dr_reload_status', { namedOnly: false, recipes: [[], [PARTITION]], run: reloadStatus }],
    ['dr_enable_probing', { namedOnly: false, recipes: [[], ['status']], run: enableProbing }],
  ]);
}
