import { describe, expect, it } from 'vitest';
import type { RowProblem } from '../../../../src/errors.js';
import { buildRoutingTable, RoutingTableBuilder } from '../../../../src/routing/core/build-routing-table.js';
import {
  BUILD_OPTIONS,
  carrierRow,
  gatewayRow,
  groupRow,
  gwListRow,
  ruleRow,
  rows,
} from '../../../support/routing-rows.js';

function errorsOf(parts: Parameters<typeof rows>[0], options = {}): Omit<RowProblem, 'value'>[] {
  const built = buildRoutingTable(rows(parts), { ...BUILD_OPTIONS, ...options });
  if (built.ok) throw new Error('expected the build to fail');
  return built.errors.map(({ table, row, column, problem }) => ({ table, row, column, problem }));
}

function warningsOf(parts: Parameters<typeof rows>[0], options = {}): string[] {
  const built = buildRoutingTable(rows(parts), { ...BUILD_OPTIONS, ...options });
  if (!built.ok) throw new Error(`expected the build to succeed: ${JSON.stringify(built.errors)}`);
  return built.warnings.map((w) => `${w.table} ${w.row} ${w.column}: ${w.problem}`);
}

const gw1 = gatewayRow('gw1', { id: 1 });
const gw2 = gatewayRow('gw2', { id: 2 });

describe('routing table build: rows that do not fit their columns', () => {
  it("stop the build, as they stop OpenSIPS's whole load", () => {
    const problem = { table: 'dr_gateways', row: 'id=4', column: 'strip', value: 'abc', problem: 'is not an integer' };
    const built = buildRoutingTable(rows({ problems: [problem] }), BUILD_OPTIONS);
    expect(built).toMatchObject({ ok: false, errors: [problem] });
  });

  it('a prefix character outside the alphabet is named; the configured extra characters are allowed', () => {
    const parts = {
      gateways: [gw1],
      rules: [ruleRow(1, '+44', 'gw1'), ruleRow(2, '*9#', 'gw1'), ruleRow(3, 'A1', 'gw1')],
    };
    expect(errorsOf(parts, { extraPrefixChars: '+*#', strict: true })).toEqual([
      {
        table: 'dr_rules',
        row: 'ruleid=3',
        column: 'prefix',
        problem:
          'character "A" at position 1 is not a prefix character (digits, + * #; routing.extraPrefixChars adds others): row skipped',
      },
    ]);
    expect(warningsOf(parts, { extraPrefixChars: '+*#A', strict: true })).toEqual([]);
  });
});

describe('#X in a gwlist: carrier or dr_gw_lists row', () => {
  const carriers = [carrierRow('1', 'gw2', { id: 21 })];
  const gwLists = [gwListRow(1, 'gw1,gw2')];

  function firstTarget(hashRefers: 'carrier' | 'gwlist' | 'auto', parts: Parameters<typeof rows>[0]) {
    const built = buildRoutingTable(rows(parts), { ...BUILD_OPTIONS, hashRefers });
    if (!built.ok) return built.errors.map((e) => e.problem);
    const destination = built.table.rules.withPrefix('1', 0)?.[0]?.destinations[0];
    return destination?.kind;
  }

  it('hashRefers carrier reads #1 as carrier 1; gwlist reads it as dr_gw_lists row 1', () => {
    const parts = { gateways: [gw1, gw2], carriers, gwLists, rules: [ruleRow(1, '1', '#1')] };
    expect(firstTarget('carrier', parts)).toBe('carrier');
    expect(firstTarget('gwlist', parts)).toBe('gateway');
  });

  it('auto picks the one that exists, and the carrier (as OpenSIPS 3.x) with a warning when both do', () => {
    expect(firstTarget('auto', { gateways: [gw1, gw2], gwLists, rules: [ruleRow(1, '1', '#1')] })).toBe('gateway');
    expect(firstTarget('auto', { gateways: [gw1, gw2], carriers, rules: [ruleRow(1, '1', '#1')] })).toBe('carrier');
    const both = { gateways: [gw1, gw2], carriers, gwLists, rules: [ruleRow(1, '1', '#1')] };
    expect(firstTarget('auto', both)).toBe('carrier');
    expect(warningsOf(both)).toContain(
      'dr_rules ruleid=1 gwlist: #1 names both carrier 1 and dr_gw_lists row 1: read as the carrier, as OpenSIPS 3.x reads it (routing.hashRefers picks one)',
    );
  });

  it('leaves a missing target out of the list, named in the configured meaning', () => {
    expect(
      warningsOf({ gateways: [gw1, gw2], gwLists, rules: [ruleRow(1, '1', '#1,gw1')] }, { hashRefers: 'carrier' }),
    ).toContain(
      'dr_rules ruleid=1 gwlist: #1: carrier 1 is not in dr_carriers (or its row was skipped): left out of the list',
    );
    expect(
      warningsOf({ gateways: [gw1, gw2], carriers, rules: [ruleRow(1, '1', '#1,gw1')] }, { hashRefers: 'gwlist' }),
    ).toContain('dr_rules ruleid=1 gwlist: #1: dr_gw_lists has no row 1 (or it was skipped): left out of the list');
  });
});

describe('rules in pages', () => {
  it('build the same table as rules all at once, and page problems stop the build', () => {
    const gateways = [gw1, gw2];
    const rules = [ruleRow(1, '44', 'gw1'), ruleRow(2, '4', 'gw2'), ruleRow(3, '', 'gw1')];
    const whole = buildRoutingTable(rows({ gateways, rules }), BUILD_OPTIONS);
    const paged = new RoutingTableBuilder(rows({ gateways }), BUILD_OPTIONS)
      .addRules(rules.slice(0, 1))
      .addRules(rules.slice(1))
      .finish();
    if (!whole.ok || !paged.ok) throw new Error('both builds should succeed');
    expect(paged.table.rules.count).toBe(3);
    expect(paged.table.rules.withPrefix('44', 0)).toEqual(whole.table.rules.withPrefix('44', 0));
    const problem = {
      table: 'dr_rules',
      row: 'ruleid=9',
      column: 'priority',
      value: 'x',
      problem: 'is not an integer',
    };
    expect(
      new RoutingTableBuilder(rows({ gateways }), BUILD_OPTIONS).addRules(rules, [problem]).finish(),
    ).toMatchObject({ ok: false, errors: [problem] });
  });
});

describe('warnings: loaded, but worth a look', () => {
  it('an empty-prefix catch-all rule, duplicate rules, a script routeid, Q sorting, a duplicate caller', () => {
    const warnings = warningsOf({
      gateways: [gw1],
      rules: [
        ruleRow(1, '', 'gw1'),
        ruleRow(2, '44', 'gw1'),
        ruleRow(3, '44', 'gw1'),
        ruleRow(4, '45', 'gw1', { routeid: '4', sort_alg: 'Q' }),
        // Kamailio's and OpenSIPS 1.5's routeid is a NOT NULL route number, 0 for none: no warning.
        ruleRow(5, '46', 'gw1', { routeid: '0' }),
        ruleRow(6, '47', 'gw1', { routeid: ' ' }),
      ],
      groups: [groupRow('1001', 'example.com', 0, { id: 1 }), groupRow('1001', 'EXAMPLE.com', 2, { id: 2 })],
    });
    expect(warnings).toEqual([
      'dr_groups id=2 (username "1001") username: 1001@example.com is also in row id=1 (group 0), which wins',
      'dr_rules ruleid=4 sort_alg: Q (quality-based, OpenSIPS qrouting) is not supported: the list keeps its order (N)',
      'dr_rules ruleid=4 routeid: names an OpenSIPS script route; sip-drouter runs no scripts, so it is shown but not run',
      'dr_rules ruleid=1 prefix: is empty: this rule catches every number of group 0 that no longer prefix matches (OpenSIPS #1961 cost a user money)',
      'dr_rules ruleid=3 prefix: duplicates rule 2 in group 0 (same prefix, priority and timerec): it is used only when rule 2 yields no gateway and routing.ruleFallback is on',
    ]);
  });
});
