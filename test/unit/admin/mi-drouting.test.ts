import { describe, expect, it } from 'vitest';
import { droutingMiCommands, type MiDroutingDeps } from '../../../src/admin/mi-drouting.js';
import { answerMiRequest } from '../../../src/admin/mi-http.js';
import { MemoryCache } from '../../../src/cache/memory-cache.js';
import { configSchema } from '../../../src/config/schema.js';
import { createLogger } from '../../../src/log.js';
import type { RoutingRows } from '../../../src/core/model/routing-rows.js';
import { CarrierStateService } from '../../../src/probe/carrier-state-service.js';
import { GatewayStateService } from '../../../src/probe/gateway-state-service.js';
import { Prober } from '../../../src/probe/prober-service.js';
import { RoutingTableBuilder } from '../../../src/routing/core/build-routing-table.js';
import { UNPARTITIONED } from '../../../src/routing/core/partitions.js';
import type { ReloadReport, RoutingSnapshot } from '../../../src/routing/routing-service.js';
import type { RoutingTable } from '../../../src/routing/core/routing-table.js';
import { BUILD_OPTIONS, carrierRow, gatewayRow, rows, ruleRow } from '../../support/routing-rows.js';
import { type DocumentedCall, WITH_PARTITIONS, WITHOUT_PARTITIONS } from './opensips-mi-examples.js';

/**
 * OpenSIPS 3.5.9 drouting's MI commands on our routing data and live
 * state (the real state services on a memory cache): the README's
 * examples (opensips-mi-examples.ts) in order, then each command's other
 * answers and errors as drouting.c gives them.
 */

const log = createLogger('silent');
/** Local time, as OpenSIPS prints it: the Date of the README's dr_reload_status example. */
const LOADED_AT = new Date(2014, 7, 12, 12, 26, 0);
const AT = new Date('2026-11-26T10:00:00Z');
const EXPIRED = '20200101T000000|20200102T000000';

function tableOf(partition: string, parts: Partial<RoutingRows>): RoutingTable {
  const data = rows(parts);
  const built = new RoutingTableBuilder(data, BUILD_OPTIONS, partition).addRules(data.rules).finish();
  if (!built.ok) throw new Error(`routing table does not build: ${JSON.stringify(built.errors)}`);
  return built.table;
}

/** The data Examples 1.49, 1.51 and 1.55 imply, and more of each kind. */
const EXAMPLE_DATA: Partial<RoutingRows> = {
  gateways: [
    gatewayRow('2', { address: 'sip:127.0.0.2:5060' }),
    gatewayRow('3', { address: '127.0.0.3:5080;transport=tcp', state: 2 }),
    gatewayRow('10', { address: '127.0.0.10', attrs: 'media=yes' }),
    gatewayRow('p1', { address: '127.0.0.11', probe_mode: 1, state: 2 }),
  ],
  carriers: [carrierRow('CR1', '2', { state: 1 }), carrierRow('CR0', '3', { attrs: 'tier=2' })],
  rules: [
    ruleRow(1, '4420', '2,#CR1,3', { attrs: 'uk-london' }),
    ruleRow(2, '', '3'),
    ruleRow(3, '44', '2', { timerec: EXPIRED }),
    ruleRow(4, '1', '10', { groupid: '5' }),
  ],
};

function snapshotOf(tables: Map<string, RoutingTable>): RoutingSnapshot {
  const all = [...tables.values()];
  return {
    tables,
    destinations: {
      gateways: new Map(all.flatMap((table) => [...table.gateways])),
      carriers: new Map(all.flatMap((table) => [...table.carriers])),
    },
    counts: { gateways: 0, carriers: 0, rules: 0, callers: 0 },
    generation: 1,
    loadedAt: LOADED_AT,
    skipped: [],
    warnings: [],
  };
}

const RELOADED: ReloadReport = {
  ok: true,
  generation: 2,
  durationMs: 1,
  counts: { gateways: 0, carriers: 0, rules: 0, callers: 0 },
  skipped: [],
  warnings: [],
  errors: [],
};

interface Setup {
  partitioned?: boolean;
  defaultGroup?: number | null;
  reload?: MiDroutingDeps['reload'];
}

/** The commands over the real gateway, carrier and probing state, each on a memory cache of its own. */
async function miOver(tables: Map<string, RoutingTable>, setup: Setup = {}) {
  const snapshot = snapshotOf(tables);
  const cache = new MemoryCache();
  const clock = { now: () => AT };
  const gateways = new GatewayStateService({
    cache,
    store: { writeGatewayStates: async () => undefined },
    clock,
    log,
    observer: { gatewayState: () => undefined, gatewayStateChanged: () => undefined, forgetGateway: () => undefined },
    // persistState: the gateways start in their dr_gateways.state (3 disabled by probing).
    options: { persistState: true, persistIntervalMs: 60_000, replyCodes: [], downAfter: 1, upAfter: 1 },
  });
  await gateways.adopt(snapshot.destinations, { inheritState: true });
  const carriers = new CarrierStateService({
    cache,
    store: { writeCarrierState: async () => undefined },
    log,
    persistState: false,
  });
  const prober = new Prober({
    engine: { request: () => Promise.reject(new Error('this test sends no probe')) },
    states: gateways,
    table: () => snapshot.destinations,
    cache,
    config: configSchema.parse({}).probe,
    log,
    observer: { probeRtt: () => undefined, probeFailed: () => undefined },
  });
  const commands = droutingMiCommands({
    routing: { current: snapshot },
    gateways,
    carriers,
    prober,
    reload: setup.reload ?? (async () => RELOADED),
    clock,
    partitioned: setup.partitioned ?? false,
    defaultGroup: setup.defaultGroup === undefined ? 0 : setup.defaultGroup,
  });
  /** The JSON-RPC response without its envelope: `{ result }` or `{ error }`. */
  async function call(method: string, params?: DocumentedCall['params']): Promise<unknown> {
    const reply = await answerMiRequest(
      JSON.stringify({ jsonrpc: '2.0', method, ...(params ? { params } : {}), id: 1 }),
      commands,
      log,
    );
    const { jsonrpc, id, ...outcome } = (reply as { body: Record<string, unknown> }).body;
    expect([jsonrpc, id]).toEqual(['2.0', 1]);
    return outcome;
  }
  return { call, gateways, carriers, prober, snapshot };
}

const unpartitioned = () => new Map([[UNPARTITIONED, tableOf(UNPARTITIONED, EXAMPLE_DATA)]]);
const partitioned = () =>
  new Map([
    [
      'part_1',
      tableOf('part_1', {
        gateways: [gatewayRow('my_gw', { address: '10.0.0.1' })],
        carriers: [carrierRow('CR1', 'my_gw')],
        rules: [ruleRow(1, '33', 'my_gw,#CR1')],
      }),
    ],
    [
      'part_2',
      tableOf('part_2', {
        gateways: [gatewayRow('my_gw', { address: '10.0.0.2', state: 1 })],
        rules: [ruleRow(1, '', 'my_gw', { groupid: '3' })],
      }),
    ],
  ]);

/** opensips-cli's text of a result, as the README prints it: `Key:: value` per member, nothing for "OK" (values trimmed: "no " prints as "no"). */
function cliText(outcome: unknown): string {
  const { result } = outcome as { result?: unknown };
  if (result === 'OK') return '';
  return Object.entries(result as Record<string, unknown>)
    .map(([key, value]) => `${key}:: ${String(value).trim()}`)
    .join('\n');
}

async function replay(
  steps: readonly DocumentedCall[],
  call: (method: string, params?: DocumentedCall['params']) => Promise<unknown>,
): Promise<void> {
  for (const step of steps) {
    const said = `${step.example}: ${step.cli}`;
    const outcome = await call(step.method, step.params);
    expect(outcome, said).toEqual(step.error ? { error: step.error } : { result: step.result });
    if (!step.readmeIsWrong) expect(cliText(outcome), said).toBe(step.documented);
  }
}

describe('OpenSIPS MI drouting commands: the README examples', () => {
  it('without partitions (Examples 1.49, 1.51, 1.55), in order, each state read back', async () => {
    const { call, gateways, carriers, prober, snapshot } = await miOver(unpartitioned());
    await replay(WITHOUT_PARTITIONS, call);
    const gateway = snapshot.destinations.gateways.get('2');
    const carrier = snapshot.destinations.carriers.get('CR1');
    expect(gateway && gateways.stateOf(gateway)).toBe('admin-disabled');
    expect(carrier && carriers.enabledOf(carrier)).toBe(true);
    expect(await prober.enabled()).toBe(false);
  });

  it('with partitions (Example 1.50), the gateway of part_1 changed and the same gwid of part_2 not', async () => {
    const { call, gateways, snapshot } = await miOver(partitioned(), { partitioned: true });
    await replay(WITH_PARTITIONS, call);
    const stateOf = (gwid: string) => {
      const gateway = snapshot.destinations.gateways.get(gwid);
      return gateway && gateways.stateOf(gateway);
    };
    expect([stateOf('part_1:my_gw'), stateOf('part_2:my_gw')]).toEqual(['admin-disabled', 'admin-disabled']);
    expect(await call('dr_gw_status', { partition_name: 'part_2', gw_id: 'my_gw', status: 1 })).toEqual({
      result: 'OK',
    });
    expect([stateOf('part_1:my_gw'), stateOf('part_2:my_gw')]).toEqual(['admin-disabled', 'active']);
  });
});

describe('OpenSIPS MI drouting commands: lists and numbers', () => {
  it('dr_gw_status lists every gateway by id in byte order: ID, IP without sip:, ATTRS when set, State', async () => {
    const { call } = await miOver(unpartitioned());
    expect(await call('dr_gw_status')).toEqual({
      result: {
        Gateways: [
          { ID: '10', IP: '127.0.0.10', ATTRS: 'media=yes', State: 'Active' },
          { ID: '2', IP: '127.0.0.2:5060', State: 'Active' },
          { ID: '3', IP: '127.0.0.3:5080;transport=tcp', State: 'Inactive' },
          // probe_mode 1 and disabled by probing: probing is what brings it back.
          { ID: 'p1', IP: '127.0.0.11', State: 'Probing' },
        ],
      },
    });
    expect(await call('dr_gw_status', { gw_id: '10' })).toEqual({ result: { ATTRS: 'media=yes', State: 'Active' } });
  });

  it('dr_carrier_status lists every carrier: ID, ATTRS when set, Enabled "yes" or "no "', async () => {
    const { call } = await miOver(unpartitioned());
    expect(await call('dr_carrier_status')).toEqual({
      result: {
        Carriers: [
          { ID: 'CR0', ATTRS: 'tier=2', Enabled: 'yes' },
          { ID: 'CR1', Enabled: 'no ' },
        ],
      },
    });
  });

  it('dr_number_routing: the prefix matched, the gwlist as written (carriers as CARRIER), the rule attrs; "No match"', async () => {
    const { call } = await miOver(unpartitioned());
    const london = {
      result: {
        'Matched Prefix': '4420',
        'GW List': [{ GATEWAY: '2' }, { CARRIER: 'CR1' }, { GATEWAY: '3' }],
        ATTRS: 'uk-london',
      },
    };
    expect(await call('dr_number_routing', { group_id: 0, number: '442079460000' })).toEqual(london);
    // No group_id: routing.defaultGroup (0 here).
    expect(await call('dr_number_routing', { number: '442079460000' })).toEqual(london);
    // Rule 3 (prefix 44) is out of time: the default rule, matched prefix ''.
    expect(await call('dr_number_routing', { group_id: '0', number: '4499' })).toEqual({
      result: { 'Matched Prefix': '', 'GW List': [{ GATEWAY: '3' }] },
    });
    expect(await call('dr_number_routing', { group_id: 5, number: '1555' })).toEqual({
      result: { 'Matched Prefix': '1', 'GW List': [{ GATEWAY: '10' }] },
    });
    expect(await call('dr_number_routing', { group_id: 7, number: '1555' })).toEqual({ result: 'No match' });
    const noDefault = await miOver(unpartitioned(), { defaultGroup: null });
    expect(await noDefault.call('dr_number_routing', { number: '442079460000' })).toEqual({ result: 'No match' });
  });

  it('dr_number_routing in a partition names the ids of its rows', async () => {
    const { call } = await miOver(partitioned(), { partitioned: true });
    expect(await call('dr_number_routing', { partition_name: 'part_1', number: '3312' })).toEqual({
      result: { 'Matched Prefix': '33', 'GW List': [{ GATEWAY: 'my_gw' }, { CARRIER: 'CR1' }] },
    });
    expect(await call('dr_number_routing', { partition_name: 'part_2', group_id: 3, number: '3312' })).toEqual({
      result: { 'Matched Prefix': '', 'GW List': [{ GATEWAY: 'my_gw' }] },
    });
  });

  it('dr_reload_status: the Date of the snapshot as ctime prints it, per partition with partitions', async () => {
    expect(await (await miOver(unpartitioned())).call('dr_reload_status')).toEqual({
      result: { Date: 'Tue Aug 12 12:26:00 2014' },
    });
    const { call } = await miOver(partitioned(), { partitioned: true });
    expect(await call('dr_reload_status')).toEqual({
      result: {
        Partitions: [
          { name: 'part_1', Date: 'Tue Aug 12 12:26:00 2014' },
          { name: 'part_2', Date: 'Tue Aug 12 12:26:00 2014' },
        ],
      },
    });
    expect(await call('dr_reload_status', ['part_2'])).toEqual({
      result: { name: 'part_2', Date: 'Tue Aug 12 12:26:00 2014' },
    });
  });
});

describe('OpenSIPS MI drouting commands: errors as drouting.c answers them', () => {
  it('partition_name: refused without partitions, required with them, 404 when unknown', async () => {
    const without = await miOver(unpartitioned());
    const invalid = {
      error: {
        code: 400,
        message: "Invalid parameter: 'partition_name'",
        data: "'partition_name' supported only when 'use_partitions' is set",
      },
    };
    expect(await without.call('dr_gw_status', { partition_name: 'part_1' })).toEqual(invalid);
    expect(await without.call('dr_reload', { partition_name: 'part_1' })).toEqual(invalid);
    const withPartitions = await miOver(partitioned(), { partitioned: true });
    const missing = {
      error: {
        code: 400,
        message: "Missing parameter: 'partition_name'",
        data: "'partition_name' is required when 'use_partitions' is set",
      },
    };
    expect(await withPartitions.call('dr_gw_status')).toEqual(missing);
    expect(await withPartitions.call('dr_carrier_status', { carrier_id: 'CR1' })).toEqual(missing);
    expect(await withPartitions.call('dr_number_routing', { number: '33' })).toEqual(missing);
    expect(await withPartitions.call('dr_carrier_status', { partition_name: 'part_9' })).toEqual({
      error: { code: 404, message: 'Partition not found' },
    });
  });

  it('unknown gateway or carrier: 404; a status that is no integer: -32602 naming it, and nothing changes', async () => {
    const { call, gateways, snapshot } = await miOver(unpartitioned());
    expect(await call('dr_gw_status', { gw_id: 'nope' })).toEqual({ error: { code: 404, message: 'GW ID not found' } });
    expect(await call('dr_gw_status', { gw_id: 'nope', status: 0 })).toEqual({
      error: { code: 404, message: 'GW ID not found' },
    });
    expect(await call('dr_carrier_status', { carrier_id: 'nope' })).toEqual({
      error: { code: 404, message: 'Carrier ID not found' },
    });
    expect(await call('dr_gw_status', { gw_id: '2', status: 'off' })).toEqual({
      error: { code: -32602, message: 'Invalid params', data: "Bad type for parameter 'status'" },
    });
    const gateway = snapshot.destinations.gateways.get('2');
    expect(gateway && gateways.stateOf(gateway)).toBe('active');
  });

  it('dr_reload: OK; inherit_state y/n/0/1 passed on, anything else left to probe.inheritState; a refused reload is 500 "Failed to reload" with the reasons', async () => {
    const asked: Parameters<MiDroutingDeps['reload']>[0][] = [];
    const { call } = await miOver(unpartitioned(), {
      reload: async (options) => {
        asked.push(options);
        return RELOADED;
      },
    });
    for (const params of [undefined, { inherit_state: 'n' }, { inherit_state: 1 }, { inherit_state: 'maybe' }])
      expect(await call('dr_reload', params)).toEqual({ result: 'OK' });
    expect(asked).toEqual([{}, { inheritState: false }, { inheritState: true }, {}]);
    const problem = { table: 'dr_rules', row: 'ruleid=7', column: 'gwlist', value: '#9', problem: 'no carrier 9' };
    const refused = await miOver(unpartitioned(), {
      reload: async () => ({ ...RELOADED, ok: false, errors: [problem] }),
    });
    expect(await refused.call('dr_reload')).toEqual({
      error: {
        code: 500,
        message: 'Failed to reload',
        data: 'dr_rules row ruleid=7: column gwlist = "#9": no carrier 9',
      },
    });
    const unreachable = await miOver(unpartitioned(), {
      reload: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:3306')),
    });
    expect(await unreachable.call('dr_reload')).toEqual({
      error: { code: 500, message: 'Failed to reload', data: 'connect ECONNREFUSED 127.0.0.1:3306' },
    });
  });
});
