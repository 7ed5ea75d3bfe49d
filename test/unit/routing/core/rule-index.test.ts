import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { RoutingTable } from '../../../../src/routing/core/routing-table.js';
import { BUILD_OPTIONS, gatewayRow, ruleRow, rows } from '../../../support/routing-rows.js';
import { buildRoutingTable } from '../../../../src/routing/core/build-routing-table.js';

const gw1 = gatewayRow('gw1', { id: 1 });
const gw2 = gatewayRow('gw2', { id: 2 });

function tableOf(rules: Parameters<typeof rows>[0]['rules']): RoutingTable {
  const built = buildRoutingTable(rows({ gateways: [gw1, gw2], rules }), BUILD_OPTIONS);
  if (!built.ok) throw new Error(`expected the build to succeed: ${JSON.stringify(built.errors)}`);
  return built.table;
}

const idsOf = (rules: readonly { ruleid: number }[] | undefined) => rules?.map((rule) => rule.ruleid);

describe('rules by prefix and group (rule-index.ts)', () => {
  const table = tableOf([
    ruleRow(7, '44', 'gw1', { priority: 1 }),
    ruleRow(3, '44', 'gw2', { priority: 1, timerec: '20200101T080000||10H|weekly|||MO' }),
    ruleRow(9, '44', 'gw2', { priority: 5 }),
    ruleRow(4, '44', 'gw1', { groupid: '1,2', priority: 0 }),
    ruleRow(5, '4', 'gw2', { groupid: '2' }),
    ruleRow(6, '', 'gw1', { groupid: '0|2', description: 'catch-all' }),
    ruleRow(8, '441', 'gw1,gw2', { routeid: 'r', attrs: 'a=1', sort_alg: 'W' }),
  ]);

  it("gives a node's rules of one group, higher priority first, then by ruleid", () => {
    expect(idsOf(table.rules.withPrefix('44', 0))).toEqual([9, 3, 7]);
    expect(idsOf(table.rules.withPrefix('44', 1))).toEqual([4]);
    expect(idsOf(table.rules.withPrefix('44', 2))).toEqual([4]);
    expect(idsOf(table.rules.withPrefix('4', 2))).toEqual([5]);
    expect(table.rules.withPrefix('4', 0)).toBeUndefined();
    expect(table.rules.withPrefix('45', 0)).toBeUndefined();
    expect(table.rules.count).toBe(7);
    expect([...table.groupIds].sort()).toEqual([0, 1, 2]);
  });

  it('keeps the prefix-less rules at the root, per group', () => {
    expect(idsOf(table.rules.withPrefix('', 0))).toEqual([6]);
    expect(idsOf(table.rules.withPrefix('', 2))).toEqual([6]);
    expect(table.rules.withPrefix('', 1)).toBeUndefined();
  });

  it('makes each rule whole again: its own fields, and the parts it shares with rules of the same text', () => {
    const [rule] = table.rules.withPrefix('441', 0) ?? [];
    expect(rule).toMatchObject({
      ruleid: 8,
      prefix: '441',
      priority: 0,
      groups: [0],
      routeid: 'r',
      attrs: 'a=1',
      sortAlg: 'W',
      description: null,
      timerec: null,
    });
    expect(rule?.destinations.map((d) => (d.kind === 'gateway' ? d.gateway.gwid : d.carrier.carrierid))).toEqual([
      'gw1',
      'gw2',
    ]);
    const [high, timed, low] = table.rules.withPrefix('44', 0) ?? [];
    expect(timed?.timerec?.source).toBe('20200101T080000||10H|weekly|||MO');
    expect(high?.timerec).toBeNull();
    // Rules 7 and 6 name the same gwlist text: one destination list serves both.
    expect(low?.destinations).toBe(table.rules.withPrefix('', 0)?.[0]?.destinations);
    expect(table.rules.withPrefix('', 0)?.[0]).toMatchObject({ prefix: '', description: 'catch-all', groups: [0, 2] });
  });

  it("reads the walk: the node of each length of a number, the prefix being the number's first characters", () => {
    const path = new Int32Array(64);
    expect(table.rules.walk('4419', path)).toBe(3);
    expect(idsOf(table.rules.at(path[1] ?? -1, 0, '4419', 2))).toEqual([9, 3, 7]);
    expect(table.rules.at(path[2] ?? -1, 0, '4419', 3)?.[0]?.prefix).toBe('441');
    expect(table.rules.at(path[0] ?? -1, 0, '4419', 1)).toBeUndefined();
    expect(idsOf(table.rules.at(0, 0, '4419', 0))).toEqual([6]);
  });

  it('keeps rules in typed arrays, not on the heap: under 40 bytes of heap a rule (objects took ~250)', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const many = Array.from({ length: 200_000 }, (_, i) =>
      ruleRow(i + 1, String(10_000_000 + i * 37), i % 2 === 0 ? 'gw1' : 'gw2'),
    );
    gc();
    const before = process.memoryUsage();
    const big = tableOf(many);
    gc();
    const after = process.memoryUsage();
    expect(big.rules.count).toBe(200_000);
    expect(idsOf(big.rules.withPrefix(String(10_000_000 + 37 * 5), 0))).toEqual([6]);
    // The rows are alive on both sides: what grew is the table.
    expect(after.heapUsed - before.heapUsed).toBeLessThan(200_000 * 40);
    expect(after.arrayBuffers - before.arrayBuffers).toBeGreaterThan(200_000 * 24);
  });
});
