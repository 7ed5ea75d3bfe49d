import { describe, expect, it } from 'vitest';
import { DROUTING_LAYOUTS } from '../../../../src/core/model/table-layouts.js';
import { buildRoutingTable } from '../../../../src/routing/core/build-routing-table.js';
import type { RoutingDialect } from '../../../../src/routing/core/gateway-list.js';
import type { TimerecDialect } from '../../../../src/routing/core/timerec/index.js';
import { BUILD_OPTIONS, gatewayRow, rows, ruleRow } from '../../../support/routing-rows.js';

/**
 * The layout read off the columns against routing.dialect and
 * routing.timerecDialect: every pair, through the build, so the warning is
 * the one the start, the reload, drouter check and /health show.
 */

const { kamailio, opensips18, opensips3 } = DROUTING_LAYOUTS;
type Said = 'gwlist' | 'timerec';

const CASES: [string | undefined, RoutingDialect, TimerecDialect, Said[]][] = [
  [kamailio, 'opensips-3', 'opensips-3.2', ['gwlist', 'timerec']],
  [kamailio, 'opensips-3', 'legacy', ['gwlist']],
  [kamailio, 'kamailio', 'opensips-3.2', ['timerec']],
  [kamailio, 'kamailio', 'legacy', []],
  [kamailio, 'opensips-1', 'legacy', []],
  [opensips18, 'opensips-3', 'opensips-3.2', ['timerec']],
  // 1.8–2.x spans both gwlist grammars: no dialect is said against it.
  [opensips18, 'opensips-1', 'legacy', []],
  [opensips18, 'opensips-3', 'legacy', []],
  [opensips18, 'kamailio', 'legacy', []],
  [opensips3, 'opensips-3', 'opensips-3.2', []],
  // 3.0 and 3.1 write legacy timerecs in the same tables.
  [opensips3, 'opensips-3', 'legacy', []],
  [opensips3, 'kamailio', 'legacy', ['gwlist']],
  [opensips3, 'opensips-1', 'opensips-3.2', ['gwlist']],
  // Rows not read from tables have no layout to hold the settings against.
  [undefined, 'kamailio', 'opensips-3.2', []],
];

describe('the drouting layout against routing.dialect and routing.timerecDialect', () => {
  it.each(CASES)('%s read with %s and %s timerecs: warnings on %j', (layout, dialect, timerecDialect, said) => {
    const parts = rows({ gateways: [gatewayRow('1')], rules: [ruleRow(1, '0', '1')] });
    const built = buildRoutingTable(layout === undefined ? parts : { ...parts, layout }, {
      ...BUILD_OPTIONS,
      dialect,
      timerec: { ...BUILD_OPTIONS.timerec, dialect: timerecDialect },
    });
    // A warning, never a refusal: the rows that read the same in both grammars route.
    expect(built.ok).toBe(true);
    expect(built.skipped).toEqual([]);
    expect(built.warnings.map((w) => w.column)).toEqual(said);
    for (const warning of built.warnings) {
      expect(warning).toMatchObject({ table: 'dr_rules', row: '(every row)', value: layout });
      // Each names both sides and the setting to change.
      const setting = warning.column === 'gwlist' ? 'routing.dialect' : 'routing.timerecDialect';
      expect(warning.problem).toContain(`${setting} ${warning.column === 'gwlist' ? dialect : timerecDialect}`);
      expect(warning.problem).toMatch(new RegExp(`set ${setting.replace('.', '\\.')}: `));
    }
  });

  it('says which settings fit, in the words an operator types', () => {
    const built = buildRoutingTable({ ...rows({}), layout: opensips3 }, { ...BUILD_OPTIONS, dialect: 'kamailio' });
    expect(built.warnings.map((w) => w.problem)).toEqual([
      'the drouting tables are this layout (dr_rules has sort_alg), whose gwlists routing.dialect kamailio does not read as 3.x does (a gateway or carrier whose id is not an integer is skipped, and a ; separates where 3.x skips the rule); set routing.dialect: opensips-3',
    ]);
    const kamailioBuilt = buildRoutingTable({ ...rows({}), layout: kamailio }, BUILD_OPTIONS);
    expect(kamailioBuilt.warnings.map((w) => w.problem.split('; set ')[1])).toEqual([
      'routing.dialect: kamailio (or opensips-1)',
      'routing.timerecDialect: legacy',
    ]);
  });
});
