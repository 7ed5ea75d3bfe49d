import { describe, expect, it } from 'vitest';
import type { RoutingRows } from '../../../../src/core/model/routing-rows.js';
import { buildRoutingTable, type RoutingBuildOptions } from '../../../../src/routing/core/build-routing-table.js';
import { decideRoute } from '../../../../src/routing/core/route-call.js';
import type { Gateway, RoutingTable } from '../../../../src/routing/core/routing-table.js';
import { BUILD_OPTIONS, carrierRow, gatewayRow, gwListRow, ruleRow, rows } from '../../../support/routing-rows.js';

/**
 * Rows → verdicts, each as OpenSIPS 3.5.9's loader gives it (modules/drouting
 * dr_load.c, routing.c): skipped (named: table, row, column, why), loaded as
 * OpenSIPS reads it, or loaded with a warning.
 */

interface Verdict {
  skipped: string[];
  warnings: string[];
  table: RoutingTable;
}

function verdictOf(parts: Partial<RoutingRows>, options: Partial<RoutingBuildOptions> = {}): Verdict {
  const built = buildRoutingTable(rows(parts), { ...BUILD_OPTIONS, ...options });
  if (!built.ok) throw new Error(`expected the build to succeed: ${JSON.stringify(built.errors)}`);
  const line = (p: { table: string; row: string; column: string; problem: string }) =>
    `${p.table} ${p.row} ${p.column}: ${p.problem}`;
  return { skipped: built.skipped.map(line), warnings: built.warnings.map(line), table: built.table };
}

/** The gwids (and carriers as #id) a rule at `prefix` of group 0 lists, or undefined when the rule is not loaded. */
function listed(table: RoutingTable, prefix: string): string[] | undefined {
  const rules = table.rules.withPrefix(prefix, 0);
  const rule = rules?.[0];
  return rule?.destinations.map((d) => (d.kind === 'carrier' ? `#${d.carrier.carrierid}` : d.gateway.gwid));
}

function route(table: RoutingTable, number: string): { outcome: string; gateways: string[] } {
  const decision = decideRoute(table, {
    number,
    defaultGroup: 0,
    at: new Date('2026-11-26T10:00:00Z'),
    random: () => 0,
    gatewayState: (gateway: Gateway) => gateway.storedState,
    strictLength: false,
    ruleFallback: false,
    explain: true,
  });
  return { outcome: decision.outcome, gateways: decision.targets.map((t) => t.gateway.gwid) };
}

const gw1 = gatewayRow('gw1', { id: 1 });
const gw2 = gatewayRow('gw2', { id: 2 });
const g1 = gatewayRow('1', { id: 11 });
const g2 = gatewayRow('2', { id: 12 });
const g3 = gatewayRow('3', { id: 13 });

describe('dr_rules rows: the verdict of OpenSIPS 3.x', () => {
  it.each([
    {
      case: 'gwlist NULL with a routeid: loaded, no gateway',
      rule: ruleRow(1, '1', '', { gwlist: null, routeid: 'my_route' }),
      listed: [],
      skipped: [],
      warning:
        'dr_rules ruleid=1 gwlist: names no gateway that loaded: a number this rule takes gets no gateway (503), as in OpenSIPS 3.x',
    },
    {
      case: "gwlist '' with a routeid: loaded, no gateway",
      rule: ruleRow(1, '1', '', { routeid: 'my_route' }),
      listed: [],
      skipped: [],
      warning:
        'dr_rules ruleid=1 routeid: names an OpenSIPS script route; sip-drouter runs no scripts, so it is shown but not run',
    },
    {
      case: 'gw1,gwX with gwX unknown: gwX left out',
      rule: ruleRow(1, '1', 'gw1,gwX'),
      listed: ['gw1'],
      skipped: [],
      warning:
        'dr_rules ruleid=1 gwlist: gateway gwX is not in dr_gateways (or its row was skipped): left out of the list',
    },
    {
      case: '#nope unknown: left out',
      rule: ruleRow(1, '1', '#nope,gw2'),
      listed: ['gw2'],
      skipped: [],
      warning:
        'dr_rules ruleid=1 gwlist: #nope is neither a carrier in dr_carriers nor a row of dr_gw_lists: left out of the list',
    },
    {
      case: 'a garbage timerec: the rule skipped',
      rule: ruleRow(1, '1', 'gw1', { timerec: 'garbage' }),
      listed: undefined,
      skipped: [expect.stringMatching(/^dr_rules ruleid=1 timerec: .*: row skipped$/)],
    },
    {
      case: 'gw1,gw2;3 (a 1.x separator): the rule skipped',
      rule: ruleRow(1, '1', 'gw1,gw2;3'),
      listed: undefined,
      skipped: ['dr_rules ruleid=1 gwlist: ";" at position 8 is not a separator (, |): row skipped'],
    },
    {
      case: '1,,2: the rule skipped',
      rule: ruleRow(1, '1', 'gw1,,gw2'),
      listed: undefined,
      skipped: [
        'dr_rules ruleid=1 gwlist: "," at position 5 where an id (letters, digits, _ - .) was expected: row skipped',
      ],
    },
    {
      case: 'sort_alg w: read as N',
      rule: ruleRow(1, '1', 'gw1', { sort_alg: 'w' }),
      listed: ['gw1'],
      skipped: [],
      warning:
        'dr_rules ruleid=1 sort_alg: is not N, W or Q (upper case): read as N (list order), as OpenSIPS 3.x reads it',
    },
    {
      case: 'a bad groupid: the rule skipped',
      rule: ruleRow(1, '1', 'gw1', { groupid: 'x' }),
      listed: undefined,
      skipped: ['dr_rules ruleid=1 groupid: a list of group numbers separated by , | or blanks: row skipped'],
    },
    {
      case: 'groupid 0,,1: the rule skipped',
      rule: ruleRow(1, '1', 'gw1', { groupid: '0,,1' }),
      listed: undefined,
      skipped: ['dr_rules ruleid=1 groupid: a list of group numbers separated by , | or blanks: row skipped'],
    },
    {
      case: "groupid '': the rule skipped",
      rule: ruleRow(1, '1', 'gw1', { groupid: '' }),
      listed: undefined,
      skipped: ['dr_rules ruleid=1 groupid: a list of group numbers separated by , | or blanks: row skipped'],
    },
    {
      case: 'groupid "0 |1,": loaded',
      rule: ruleRow(1, '1', 'gw1', { groupid: '0 |1,' }),
      listed: ['gw1'],
      skipped: [],
    },
    {
      case: 'groupid 1,x: the whole rule skipped (3.5.9 leaves it in group 1, then frees it)',
      rule: ruleRow(1, '1', 'gw1', { groupid: '1,x' }),
      listed: undefined,
      skipped: ['dr_rules ruleid=1 groupid: a list of group numbers separated by , | or blanks: row skipped'],
    },
    {
      case: 'a prefix character outside the alphabet: the rule skipped',
      rule: ruleRow(1, '4a', 'gw1'),
      listed: undefined,
      skipped: [
        'dr_rules ruleid=1 prefix: character "a" at position 2 is not a prefix character (digits; routing.extraPrefixChars adds others): row skipped',
      ],
    },
    {
      case: 'a + prefix without extra_prefix_chars: the rule skipped, as OpenSIPS skips it',
      rule: ruleRow(1, '+44', 'gw1'),
      listed: undefined,
      skipped: [
        'dr_rules ruleid=1 prefix: character "+" at position 1 is not a prefix character (digits; routing.extraPrefixChars adds others): row skipped',
      ],
    },
    {
      case: 'a leading blank in the prefix: the rule skipped (add_prefix reads the column as it is)',
      rule: ruleRow(1, ' 44', 'gw1'),
      listed: undefined,
      skipped: [
        'dr_rules ruleid=1 prefix: character " " at position 1 is not a prefix character (digits; routing.extraPrefixChars adds others): row skipped',
      ],
    },
    {
      case: 'a trailing blank in the prefix: the rule skipped too',
      rule: ruleRow(1, '44 ', 'gw1'),
      listed: undefined,
      skipped: [
        'dr_rules ruleid=1 prefix: character " " at position 3 is not a prefix character (digits; routing.extraPrefixChars adds others): row skipped',
      ],
    },
  ])('$case', ({ rule, listed: expected, skipped, warning }) => {
    const other = ruleRow(2, '9', 'gw2');
    const verdict = verdictOf({ gateways: [gw1, gw2], rules: [rule, other] });
    expect(listed(verdict.table, rule.prefix.trim().replace(/^\+/, ''))).toEqual(expected);
    expect(verdict.skipped).toEqual(skipped);
    if (warning) expect(verdict.warnings).toContain(warning);
    // The other rule loads whatever this one's verdict is.
    expect(listed(verdict.table, '9')).toEqual(['gw2']);
    expect(verdict.table.rules.count).toBe(expected === undefined ? 1 : 2);
  });

  it('routing.extraPrefixChars +*# loads + * # prefixes, and names them in the verdict of another character', () => {
    const verdict = verdictOf(
      { gateways: [gw1], rules: [ruleRow(1, '+44', 'gw1'), ruleRow(2, '*9#', 'gw1'), ruleRow(3, '4a', 'gw1')] },
      { extraPrefixChars: '+*#' },
    );
    expect(listed(verdict.table, '+44')).toEqual(['gw1']);
    expect(listed(verdict.table, '*9#')).toEqual(['gw1']);
    expect(verdict.skipped).toEqual([
      'dr_rules ruleid=3 prefix: character "a" at position 2 is not a prefix character (digits, + * #; routing.extraPrefixChars adds others): row skipped',
    ]);
  });

  it('weights: none written is 0, as OpenSIPS reads it', () => {
    const verdict = verdictOf({ gateways: [gw1, gw2], rules: [ruleRow(1, '1', 'gw1,gw2=5', { sort_alg: 'W' })] });
    const rule = verdict.table.rules.withPrefix('1', 0)?.[0];
    expect(rule?.destinations.map((d) => d.weight)).toEqual([0, 5]);
  });

  it('a rule with no gateway answers no-gateway; the rest route', () => {
    const { table } = verdictOf({
      gateways: [gw1],
      rules: [
        ruleRow(1, '1', '', { gwlist: null, routeid: 'r' }),
        ruleRow(2, '2', 'gw1,gwX'),
        ruleRow(3, '3', 'gw1', { timerec: 'garbage' }),
      ],
    });
    expect(route(table, '100')).toEqual({ outcome: 'no-gateway', gateways: [] });
    expect(route(table, '200')).toEqual({ outcome: 'routed', gateways: ['gw1'] });
    expect(route(table, '300')).toEqual({ outcome: 'no-rule', gateways: [] });
  });
});

describe('dr_gateways rows: the verdict of OpenSIPS 3.x add_dst', () => {
  it.each([
    { case: 'probe_mode 3', row: gatewayRow('gw3', { id: 3, probe_mode: 3 }), column: 'probe_mode' },
    { case: 'state 7', row: gatewayRow('gw3', { id: 3, state: 7 }), column: 'state' },
    {
      case: 'an address that is no host',
      row: gatewayRow('gw3', { id: 3, address: 'bad host name:5060' }),
      column: 'address',
    },
    { case: 'a gwid with a blank', row: gatewayRow('gw 3', { id: 3 }), column: 'gwid' },
    { case: 'a gwid already loaded', row: gatewayRow('gw1', { id: 3 }), column: 'gwid' },
  ])('$case: the gateway skipped, a rule naming it loads without it', ({ row, column }) => {
    const verdict = verdictOf({
      gateways: [gw1, row],
      rules: [ruleRow(1, '1', `gw1,${row.gwid === 'gw1' ? 'gw9' : row.gwid.replace(' ', '')}`)],
    });
    expect(verdict.skipped).toEqual([
      expect.stringMatching(new RegExp(`^dr_gateways id=3 \\(gwid "${row.gwid}"\\) ${column}: .*: row skipped$`)),
    ]);
    expect([...verdict.table.gateways.keys()]).toEqual(['gw1']);
    expect(verdict.table.gateways.get('gw1')?.id).toBe(1);
    expect(listed(verdict.table, '1')).toEqual(['gw1']);
  });
});

describe('dr_gateways.socket: the verdict of OpenSIPS 3.x (gw_socket_filter_mode none)', () => {
  // BUILD_OPTIONS listen on 127.0.0.1:5060, udp and tcp.
  it.each([
    { socket: 'udp:127.0.0.1:5060', ours: true },
    { socket: 'tcp:127.0.0.1', ours: true },
    { socket: '127.0.0.1:5060', ours: true },
    { socket: '127.0.0.1', ours: true },
    { socket: 'UDP:127.0.0.1:5060', ours: true },
    { socket: 'tls:127.0.0.1:5061', ours: false },
    { socket: 'udp:127.0.0.1:5070', ours: false },
    { socket: 'udp:192.0.2.1:5060', ours: false },
    { socket: 'udp:[::1]:5060', ours: false },
  ])('$socket: loaded, ours $ours (a socket not ours is ignored with a warning)', ({ socket, ours }) => {
    const verdict = verdictOf({ gateways: [gatewayRow('gw3', { id: 3, socket })], rules: [ruleRow(1, '1', 'gw3')] });
    expect(verdict.skipped).toEqual([]);
    expect(verdict.table.gateways.get('gw3')?.socket).toBe(ours ? socket : null);
    const warning = `dr_gateways id=3 (gwid "gw3") socket: is not one of our sockets (udp:127.0.0.1:5060, tcp:127.0.0.1:5060): ignored, the gateway loads without it, as OpenSIPS 3.x loads it`;
    expect(verdict.warnings.includes(warning)).toBe(!ours);
    expect(route(verdict.table, '1')).toEqual({ outcome: 'routed', gateways: ['gw3'] });
  });

  it.each(['foo:127.0.0.1', 'udp:127.0.0.1:50x', '127.0.0.1:', 'a:b:c:d', ']127.0.0.1', 'udp:[[::1]]:5060'])(
    '%j does not parse: loaded without it, with a warning',
    (socket) => {
      const verdict = verdictOf({ gateways: [gatewayRow('gw3', { id: 3, socket })] });
      expect(verdict.skipped).toEqual([]);
      expect(verdict.table.gateways.get('gw3')?.socket).toBeNull();
      expect(verdict.warnings).toEqual([
        'dr_gateways id=3 (gwid "gw3") socket: is no [proto:]host[:port] socket: ignored, the gateway loads without it, as OpenSIPS 3.x loads it',
      ]);
    },
  );

  it('NULL and empty say nothing', () => {
    const verdict = verdictOf({
      gateways: [gatewayRow('gw3', { id: 3, socket: null }), gatewayRow('gw4', { id: 4, socket: '' })],
    });
    expect(verdict.warnings).toEqual([]);
  });

  it('an IPv6 socket is compared as an address', () => {
    const parts = { gateways: [gatewayRow('gw3', { id: 3, socket: 'udp:[::0:1]:5060' })] };
    const verdict = verdictOf(parts, { localSockets: { address: '::1', port: 5060, transports: ['udp'] } });
    expect(verdict.warnings).toEqual([]);
    expect(verdict.table.gateways.get('gw3')?.socket).toBe('udp:[::0:1]:5060');
  });
});

describe('dr_carriers rows: the verdict of OpenSIPS 3.x add_carrier', () => {
  it('an empty gwlist loads a carrier with no gateway', () => {
    const verdict = verdictOf({
      gateways: [gw1],
      carriers: [carrierRow('empty', '', { id: 21 })],
      rules: [ruleRow(1, '1', '#empty,gw1')],
    });
    expect(verdict.skipped).toEqual([]);
    expect(verdict.table.carriers.get('empty')?.members).toEqual([]);
    expect(verdict.warnings).toContain('dr_carriers id=21 (carrierid "empty") gwlist: is empty: it offers no gateway');
    expect(route(verdict.table, '1')).toEqual({ outcome: 'routed', gateways: ['gw1'] });
  });

  it('an unknown gateway is left out; a list that does not parse, a carrier loaded before it, or a carrierid loaded before skips the carrier', () => {
    const carriers = [
      carrierRow('c1', 'gw1,gwX', { id: 21 }),
      carrierRow('c2', 'gw1;gw2', { id: 22 }),
      carrierRow('c3', 'gw1,#c1', { id: 23 }),
      carrierRow('c4', 'gw2,#c5', { id: 24 }),
      carrierRow('c5', 'gw2', { id: 25 }),
      carrierRow('c1', 'gw2', { id: 26 }),
    ];
    const verdict = verdictOf({ gateways: [gw1, gw2], carriers });
    expect(verdict.skipped).toEqual([
      'dr_carriers id=22 (carrierid "c2") gwlist: ";" at position 4 is not a separator (, |): row skipped',
      'dr_carriers id=23 (carrierid "c3") gwlist: #c1: this list may name gateways only, not another carrier or list: row skipped',
      'dr_carriers id=26 (carrierid "c1") carrierid: carrier c1 is already loaded from an earlier row: row skipped',
    ]);
    expect(verdict.table.carriers.get('c1')?.members.map((m) => m.gateway.gwid)).toEqual(['gw1']);
    expect(verdict.table.carriers.get('c4')?.members.map((m) => m.gateway.gwid)).toEqual(['gw2']);
    expect(verdict.warnings).toContain(
      'dr_carriers id=21 (carrierid "c1") gwlist: gateway gwX is not in dr_gateways (or its row was skipped): left out of the list',
    );
    expect(verdict.warnings).toContain(
      'dr_carriers id=24 (carrierid "c4") gwlist: #c5: no such carrier (yet): left out of the list',
    );
  });

  it('state overwrites flag 0x2 at load: flags 2 and state 0 is on, flags 0 and state 1 is off', () => {
    const carriers = [
      carrierRow('on', 'gw1', { id: 21, flags: 2, state: 0 }),
      carrierRow('off', 'gw2', { id: 22, flags: 0, state: 1 }),
    ];
    const verdict = verdictOf({
      gateways: [gw1, gw2],
      carriers,
      rules: [ruleRow(1, '1', '#on'), ruleRow(2, '2', '#off')],
    });
    expect(route(verdict.table, '1')).toEqual({ outcome: 'routed', gateways: ['gw1'] });
    expect(route(verdict.table, '2')).toEqual({ outcome: 'no-gateway', gateways: [] });
    expect(verdict.warnings).toContain(
      'dr_carriers id=21 (carrierid "on") flags: bit 0x2 (disabled) is overwritten by state 0 at load, as in OpenSIPS 3.x: the carrier is enabled',
    );
  });

  it('sort_alg w reads as N', () => {
    const verdict = verdictOf({
      gateways: [gw1, gw2],
      carriers: [carrierRow('c', 'gw2,gw1', { id: 21, sort_alg: 'w' })],
    });
    expect(verdict.table.carriers.get('c')?.sortAlg).toBe('N');
  });

  it('a first-only carrier whose first gateway the rule already offered offers it again, as OpenSIPS 3.5.9 offers [2, 2]; with repeatGateways once, nothing more (never its second)', () => {
    const parts = {
      gateways: [g1, g2],
      carriers: [carrierRow('cdup', '2,1', { id: 21, flags: 1 })],
      rules: [ruleRow(1, '5', '2,#cdup')],
    };
    expect(route(verdictOf(parts).table, '5')).toEqual({ outcome: 'routed', gateways: ['2', '2'] });
    expect(route(verdictOf(parts, { repeatGateways: 'once' }).table, '5')).toEqual({
      outcome: 'routed',
      gateways: ['2'],
    });
  });
});

describe('dr_gw_lists rows (OpenSIPS 1.x)', () => {
  it('an unknown gateway is left out; a # inside skips the row', () => {
    const verdict = verdictOf({ gateways: [gw1], gwLists: [gwListRow(1, 'gw1,gwX'), gwListRow(2, 'gw1,#1')] });
    expect(verdict.skipped).toEqual([
      'dr_gw_lists id=2 gwlist: #1: this list may name gateways only, not another carrier or list: row skipped',
    ]);
    expect(verdict.warnings).toContain(
      'dr_gw_lists id=1 gwlist: gateway gwX is not in dr_gateways (or its row was skipped): left out of the list',
    );
  });
});

describe('routing.dialect', () => {
  it('opensips-1 and kamailio read 1,2;3 as three gateways', () => {
    for (const dialect of ['opensips-1', 'kamailio'] as const) {
      const verdict = verdictOf({ gateways: [g1, g2, g3], rules: [ruleRow(1, '1', '1,2;3')] }, { dialect });
      expect(listed(verdict.table, '1')).toEqual(['1', '2', '3']);
      expect(verdict.skipped).toEqual([]);
    }
  });

  it('opensips-1 and kamailio skip a gateway whose id is not an integer', () => {
    const verdict = verdictOf({ gateways: [g1, gw1] }, { dialect: 'kamailio' });
    expect(verdict.skipped).toEqual(['dr_gateways id=1 (gwid "gw1") gwid: a gateway id is digits: row skipped']);
  });
});

describe('routing.strict: all or nothing', () => {
  it('a row that would be skipped refuses the build, named as an error', () => {
    const parts = rows({
      gateways: [gw1, gatewayRow('gw3', { id: 3, probe_mode: 3 })],
      rules: [ruleRow(1, '1', 'gw1', { timerec: 'garbage' }), ruleRow(2, '2', 'gw1')],
    });
    const strict = buildRoutingTable(parts, { ...BUILD_OPTIONS, strict: true });
    expect(strict.ok).toBe(false);
    if (strict.ok) return;
    expect(strict.skipped).toEqual([]);
    expect(strict.errors.map((e) => `${e.table} ${e.column}`)).toEqual(['dr_gateways probe_mode', 'dr_rules timerec']);
    const lenient = buildRoutingTable(parts, BUILD_OPTIONS);
    expect(lenient).toMatchObject({ ok: true, skipped: [{ table: 'dr_gateways' }, { table: 'dr_rules' }] });
  });

  it('warnings alone never refuse it', () => {
    const built = buildRoutingTable(rows({ gateways: [gw1], rules: [ruleRow(1, '1', 'gw1,gwX', { sort_alg: 'w' })] }), {
      ...BUILD_OPTIONS,
      strict: true,
    });
    expect(built.ok).toBe(true);
  });
});
