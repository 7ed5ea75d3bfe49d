import { describe, expect, it } from 'vitest';
import { type RouteRequest, decideRoute } from '../../../../src/routing/core/route-call.js';
import type { Gateway, GatewayState, RoutingTable } from '../../../../src/routing/core/routing-table.js';
import { parseSipUri } from '../../../../src/sip/core/uri.js';
import { carrierRow, gatewayRow, groupRow, gwListRow, ruleRow, tableOf } from '../../../support/routing-rows.js';
import { replay, seededRandom } from '../../../support/seeded-random.js';

const AT = new Date('2026-11-26T10:00:00Z');
/** A 3.2 timerec that was valid only on 2020-01-01 (UTC): out of time at AT. */
const EXPIRED = '20200101T000000|20200102T000000';
/** Valid every day 09:00-12:00 UTC: in time at AT. */
const MORNINGS = '20200101T090000||3H|daily';

function request(overrides: Partial<RouteRequest> & { number: string }): RouteRequest {
  return {
    defaultGroup: 0,
    at: AT,
    random: () => 0,
    gatewayState: (gateway: Gateway) => gateway.storedState,
    strictLength: false,
    ruleFallback: false,
    explain: true,
    ...overrides,
  };
}

function route(table: RoutingTable, overrides: Partial<RouteRequest> & { number: string }) {
  const decision = decideRoute(table, request(overrides));
  return {
    outcome: decision.outcome,
    prefix: decision.prefix,
    ruleId: decision.ruleId,
    gateways: decision.targets.map((target) => target.gateway.gwid),
    decision,
  };
}

const gateways = ['a', 'b', 'c', 'd'].map((gwid, i) =>
  gatewayRow(gwid, { id: i + 1, address: `127.0.0.${i + 2}:5060` }),
);

describe('longest-prefix match', () => {
  const rules = [
    ruleRow(1, '2050', 'a'),
    ruleRow(2, '20505', 'b'),
    ruleRow(3, '', 'c'),
    ruleRow(4, '+44', 'd'),
    ruleRow(5, '*9#', 'd'),
  ];
  // OpenSIPS's alphabet is digits: + * # only with extra_prefix_chars (routing.extraPrefixChars).
  const table = tableOf({ gateways, rules }, { extraPrefixChars: '+*#' });

  it.each([
    ['20505123', '20505', 'b'],
    ['20501234', '2050', 'a'],
    ['2050', '2050', 'a'],
    ['205', '', 'c'],
    ['99', '', 'c'],
    ['+4420', '+44', 'd'],
    ['*9#1', '*9#', 'd'],
  ])('%s takes prefix "%s" (gateway %s)', (number, prefix, gwid) => {
    expect(route(table, { number })).toMatchObject({ outcome: 'routed', prefix, gateways: [gwid] });
  });

  it('a character outside the alphabet that the walk reaches leaves only the default rules, and says so', () => {
    const result = route(table, { number: '2050x5' });
    expect(result).toMatchObject({ outcome: 'routed', prefix: '', gateways: ['c'] });
    expect(result.decision.notes).toEqual([
      'character "x" at position 5 is not a prefix character: prefix rules skipped, default rules only',
    ]);
  });

  it('a character the walk never reads (after a leaf) changes nothing', () => {
    for (const number of ['20505x', '+44x']) {
      const result = route(table, { number });
      expect(result.decision.notes).toEqual([]);
      expect(result.prefix).not.toBe('');
    }
  });

  it('a bad first character always abandons the prefixes (OpenSIPS checks it before any lookup)', () => {
    expect(route(table, { number: 'x2050' })).toMatchObject({ prefix: '', gateways: ['c'] });
  });

  it('with the default alphabet (digits), + is no prefix character: the +44 rule is not loaded and +4420 takes the default rule', () => {
    const digitsOnly = tableOf({ gateways, rules });
    const result = route(digitsOnly, { number: '+4420' });
    expect(result).toMatchObject({ outcome: 'routed', prefix: '', ruleId: 3, gateways: ['c'] });
    expect(result.decision.notes).toEqual([
      'character "+" at position 1 is not a prefix character: prefix rules skipped, default rules only',
    ]);
  });

  it("Kamailio's alphabet is digits, * # and +", () => {
    const kamailio = tableOf(
      {
        gateways: gateways.map((g, i) => ({ ...g, gwid: String(i + 1) })),
        rules: [ruleRow(1, '+44', '4'), ruleRow(2, '*9#', '4')],
      },
      { dialect: 'kamailio' },
    );
    expect(route(kamailio, { number: '+4420' })).toMatchObject({ prefix: '+44', gateways: ['4'] });
    expect(route(kamailio, { number: '*9#1' })).toMatchObject({ prefix: '*9#', gateways: ['4'] });
  });
});

describe('time and priority', () => {
  it('walks up to a shorter prefix when every rule of the longer one is out of time', () => {
    const table = tableOf({ gateways, rules: [ruleRow(1, '44', 'a', { timerec: EXPIRED }), ruleRow(2, '4', 'b')] });
    const result = route(table, { number: '4420' });
    expect(result).toMatchObject({ outcome: 'routed', prefix: '4', ruleId: 2, gateways: ['b'] });
    expect(result.decision.rules.map((r) => [r.ruleId, r.verdict])).toEqual([
      [1, 'out-of-time'],
      [2, 'taken'],
    ]);
  });

  it('falls to the default rules when every prefix rule is out of time', () => {
    const table = tableOf({ gateways, rules: [ruleRow(1, '44', 'a', { timerec: EXPIRED }), ruleRow(2, '', 'c')] });
    expect(route(table, { number: '4420' })).toMatchObject({ prefix: '', ruleId: 2 });
  });

  it('takes the highest priority rule that is in time, ties by ruleid', () => {
    const table = tableOf({
      gateways,
      rules: [
        ruleRow(10, '44', 'a', { priority: 1 }),
        ruleRow(11, '44', 'b', { priority: 9, timerec: EXPIRED }),
        ruleRow(12, '44', 'c', { priority: 5, timerec: MORNINGS }),
        ruleRow(9, '44', 'd', { priority: 5 }),
      ],
    });
    const result = route(table, { number: '4420' });
    expect(result).toMatchObject({ ruleId: 9, gateways: ['d'] });
    expect(result.decision.rules.map((r) => [r.ruleId, r.verdict])).toEqual([
      [11, 'out-of-time'],
      [9, 'taken'],
      [12, 'lower-priority'],
      [10, 'lower-priority'],
    ]);
  });
});

describe('outcomes and flags', () => {
  const down =
    (gwid: string) =>
    (gateway: Gateway): GatewayState =>
      gateway.gwid === gwid ? 'probing-disabled' : 'active';

  it('no rule (404) is told apart from no usable gateway (503)', () => {
    const table = tableOf({ gateways, rules: [ruleRow(1, '44', 'a')] });
    expect(route(table, { number: '33' }).outcome).toBe('no-rule');
    const result = route(table, { number: '44', gatewayState: down('a') });
    expect(result).toMatchObject({ outcome: 'no-gateway', ruleId: 1, gateways: [] });
    expect(result.decision.destinations[0]?.skipped).toBe('down (disabled by probing)');
  });

  it('rule fallback (F) moves to the next rule when the first has no usable gateway; without it, 503', () => {
    const table = tableOf({ gateways, rules: [ruleRow(1, '44', 'a'), ruleRow(2, '4', 'a,b'), ruleRow(3, '', 'c')] });
    expect(route(table, { number: '441', gatewayState: down('a') }).outcome).toBe('no-gateway');
    const result = route(table, { number: '441', gatewayState: down('a'), ruleFallback: true });
    expect(result).toMatchObject({ outcome: 'routed', ruleId: 2, prefix: '4', gateways: ['b', 'c'] });
    expect(result.decision.rules.map((r) => [r.ruleId, r.verdict])).toEqual([
      [1, 'no-usable-gateway'],
      [2, 'taken'],
      [3, 'fallback'],
    ]);
  });

  it("rule fallback offers a gateway of both rules again, as OpenSIPS pushes each rule's list; with repeatGateways once, not", () => {
    const rules = [ruleRow(1, '44', 'a,b'), ruleRow(2, '4', 'b,c')];
    expect(route(tableOf({ gateways, rules }), { number: '44', ruleFallback: true }).gateways).toEqual([
      'a',
      'b',
      'b',
      'c',
    ]);
    const result = route(tableOf({ gateways, rules }, { repeatGateways: 'once' }), {
      number: '44',
      ruleFallback: true,
    });
    expect(result.gateways).toEqual(['a', 'b', 'c']);
    expect(result.decision.destinations.find((d) => d.ruleId === 2 && d.gateway.gwid === 'b')?.skipped).toBe(
      'already offered in this decision (routing.repeatGateways: once)',
    );
  });

  it('a gateway listed twice in a rule, or directly and through a carrier, is offered at each listing; with repeatGateways once, at its first', () => {
    const parts = { gateways, carriers: [carrierRow('cb', 'b,c', { id: 51 })], rules: [ruleRow(1, '44', 'a,a,b,#cb')] };
    expect(
      route(tableOf(parts), { number: '44' }).decision.targets.map((t) => [t.gateway.gwid, t.carrierid ?? '']),
    ).toEqual([
      ['a', ''],
      ['a', ''],
      ['b', ''],
      ['b', 'cb'],
      ['c', 'cb'],
    ]);
    expect(route(tableOf(parts, { repeatGateways: 'once' }), { number: '44' }).gateways).toEqual(['a', 'b', 'c']);
  });

  it('strict length (L) wants the prefix to be the whole number', () => {
    const table = tableOf({ gateways, rules: [ruleRow(1, '011', 'a'), ruleRow(2, '12025551234', 'b')] });
    expect(route(table, { number: '0114420', strictLength: true })).toMatchObject({ outcome: 'no-rule', ruleId: null });
    expect(route(table, { number: '12025551234', strictLength: true })).toMatchObject({ outcome: 'routed', ruleId: 2 });
  });

  it('the whitelist filters the rule gateways and carriers', () => {
    const table = tableOf({
      gateways,
      carriers: [carrierRow('cx', 'c,d', { id: 50 })],
      rules: [ruleRow(1, '44', 'a,b,#cx')],
    });
    expect(route(table, { number: '44', whitelist: new Set(['b']) }).gateways).toEqual(['b']);
    expect(route(table, { number: '44', whitelist: new Set(['cx']) }).gateways).toEqual(['c', 'd']);
  });
});

describe('groups', () => {
  const table = tableOf({
    gateways,
    rules: [ruleRow(1, '44', 'a', { groupid: '1' }), ruleRow(2, '44', 'b', { groupid: '2,3' })],
    groups: [groupRow('alice', 'example.com', 1), groupRow('bob', 'example.com', 3)],
  });

  it.each([
    [{ caller: { user: 'alice', domain: 'EXAMPLE.com' } }, 'dr_groups', 1, ['a']],
    [{ caller: { user: 'bob', domain: 'example.com' } }, 'dr_groups', 3, ['b']],
    [{ caller: { user: 'carol', domain: 'example.com' }, defaultGroup: 2 }, 'default', 2, ['b']],
    [{ caller: { user: 'alice', domain: 'example.com' }, group: 2 }, 'explicit', 2, ['b']],
  ])('%j → group source %s, group %s', (overrides, source, group, gwids) => {
    const result = route(table, { number: '44', ...overrides });
    expect(result.decision.group).toMatchObject({ source, group });
    expect(result.gateways).toEqual(gwids);
  });

  it('a caller in no group, with no default group, has no rule', () => {
    const result = route(table, { number: '44', caller: { user: 'carol', domain: 'example.com' }, defaultGroup: null });
    expect(result.outcome).toBe('no-rule');
    expect(result.decision.group.detail).toBe('carol@example.com is not in dr_groups and routing.defaultGroup is none');
  });

  it('with useDomain off, dr_groups matches the user alone', () => {
    const userOnly = tableOf(
      { gateways, rules: [ruleRow(1, '44', 'a', { groupid: '7' })], groups: [groupRow('alice', null, 7)] },
      { useDomain: false },
    );
    expect(route(userOnly, { number: '44', caller: { user: 'alice', domain: 'anything.example' } }).gateways).toEqual([
      'a',
    ]);
  });
});

describe('destinations: lists, carriers, weights, states', () => {
  it('the tutorial: #1 is dr_gw_lists row 1, gateway 1 then 2, for 011, the exact number and the default', () => {
    const tutorial = tableOf({
      gateways: [gatewayRow('1', { address: '127.0.0.2:5060' }), gatewayRow('2', { address: '127.0.0.3:5060' })],
      gwLists: [gwListRow(1, '1,2')],
      rules: [ruleRow(1, '011', '#1'), ruleRow(2, '12025551234', '#1'), ruleRow(3, '', '#1')],
    });
    for (const [number, ruleId] of [
      ['01144201234', 1],
      ['12025551234', 2],
      ['5551234', 3],
    ] as const) {
      const result = route(tutorial, { number });
      expect(result).toMatchObject({ outcome: 'routed', ruleId, gateways: ['1', '2'] });
      expect(result.decision.targets.map((t) => t.via)).toEqual(['#1', '#1']);
    }
  });

  it('weighted order (W) draws by weight with the injected random, zero weights last', () => {
    const table = tableOf({ gateways, rules: [ruleRow(1, '44', 'a=1,b=3,c=0,d=6', { sort_alg: 'W' })] });
    // Total 10: 0.35 falls in b's share [1,4); then of a=1,d=6 (7): 0.9*7=6.3 falls in d's [1,7); then a; then c (zero weight), not drawn.
    expect(route(table, { number: '44', random: replay([0.35, 0.9, 0.0]) }).gateways).toEqual(['b', 'd', 'a', 'c']);
  });

  it('W with every weight 0 or none keeps the list order (OpenSIPS 3.5.9), draws nothing; zeroWeightOrder random draws it', () => {
    const rules = [ruleRow(1, '44', 'a,b=0,c,d', { sort_alg: 'W' })];
    const never = () => {
      throw new Error('no draw expected');
    };
    expect(route(tableOf({ gateways, rules }), { number: '44', random: never }).gateways).toEqual(['a', 'b', 'c', 'd']);
    // 0.99 of 4 is d, then 0.0 of the rest (b, c, a after the swap) is b, then 0.6 of (c, a) is a.
    expect(
      route(tableOf({ gateways, rules }, { zeroWeightOrder: 'random' }), {
        number: '44',
        random: replay([0.99, 0.0, 0.6]),
      }).gateways,
    ).toEqual(['d', 'b', 'a', 'c']);
  });

  it('W puts the zero weights after the weighted ones in the order its swaps leave them: 1=0,2=0,3=5 gives 3, 2, 1 as in OpenSIPS 3.5.9', () => {
    const table = tableOf({ gateways, rules: [ruleRow(1, '44', 'a=0,b=0,c=5', { sort_alg: 'W' })] });
    expect(route(table, { number: '44', random: replay([0.5]) }).gateways).toEqual(['c', 'b', 'a']);
  });

  it('weighted order follows the weights over many draws with a seeded random', () => {
    const table = tableOf({ gateways, rules: [ruleRow(1, '44', 'a=1,b=3', { sort_alg: 'W' })] });
    const random = seededRandom(42);
    let bFirst = 0;
    const draws = 4000;
    for (let i = 0; i < draws; i++) if (route(table, { number: '44', random }).gateways[0] === 'b') bFirst++;
    expect(bFirst / draws).toBeGreaterThan(0.72);
    expect(bFirst / draws).toBeLessThan(0.78);
  });

  it('a carrier expands in its own order; first-only flag; the state column decides on or off (it overwrites flag 0x2, as in OpenSIPS 3.x)', () => {
    const carriers = [
      carrierRow('first', 'a,b', { id: 60, flags: 1 }),
      carrierRow('flagoff', 'c', { id: 61, flags: 2 }),
      carrierRow('stateoff', 'd', { id: 62, state: 1 }),
    ];
    const table = tableOf({ gateways, carriers, rules: [ruleRow(1, '44', '#first,#flagoff,#stateoff')] });
    const result = route(table, { number: '44' });
    expect(result.gateways).toEqual(['a', 'c']);
    expect(result.decision.destinations.map((d) => [d.gateway.gwid, d.carrierid, d.skipped ?? 'usable'])).toEqual([
      ['a', 'first', 'usable'],
      ['b', 'first', 'carrier first uses only its first usable gateway'],
      ['c', 'flagoff', 'usable'],
      ['d', 'stateoff', 'carrier stateoff is disabled'],
    ]);
  });

  it('a first-only carrier skips a down gateway and takes the next', () => {
    const table = tableOf({
      gateways,
      carriers: [carrierRow('first', 'a,b', { id: 70, flags: 1 })],
      rules: [ruleRow(1, '44', '#first')],
    });
    const result = route(table, { number: '44', gatewayState: (g) => (g.gwid === 'a' ? 'admin-disabled' : 'active') });
    expect(result.gateways).toEqual(['b']);
    expect(result.decision.destinations[0]?.skipped).toBe('disabled by admin');
  });

  it('a first-only carrier whose first gateway an earlier rule offered offers that one again (OpenSIPS); with repeatGateways once, nothing, never its next gateway', () => {
    const parts = {
      gateways,
      carriers: [carrierRow('cdup', 'b,a', { id: 80, flags: 1 })],
      rules: [ruleRow(1, '44', 'b'), ruleRow(2, '4', '#cdup')],
    };
    expect(route(tableOf(parts), { number: '44', ruleFallback: true }).gateways).toEqual(['b', 'b']);
    const result = route(tableOf(parts, { repeatGateways: 'once' }), { number: '44', ruleFallback: true });
    expect(result.gateways).toEqual(['b']);
    expect(
      result.decision.destinations.filter((d) => d.ruleId === 2).map((d) => [d.gateway.gwid, d.skipped ?? 'usable']),
    ).toEqual([
      ['b', 'already offered in this decision (routing.repeatGateways: once)'],
      ['a', 'carrier cdup uses only its first usable gateway'],
    ]);
  });

  it('has no limit on destinations per rule (OpenSIPS broke above 32)', () => {
    const many = Array.from({ length: 100 }, (_, i) => gatewayRow(`g${i}`, { id: 100 + i }));
    const table = tableOf({ gateways: many, rules: [ruleRow(1, '44', many.map((g) => g.gwid).join(','))] });
    expect(route(table, { number: '44' }).gateways).toHaveLength(100);
  });
});

describe('lean decisions (explain off, as the proxy asks)', () => {
  it('give the same outcome, rule and targets, without the rules looked at or the skipped gateways', () => {
    const table = tableOf({
      gateways,
      rules: [ruleRow(1, '44', 'a', { timerec: EXPIRED }), ruleRow(2, '4', 'a,b,c'), ruleRow(3, '4', 'd')],
    });
    const state = (gateway: Gateway): GatewayState => (gateway.gwid === 'a' ? 'probing-disabled' : 'active');
    const full = route(table, { number: '441', gatewayState: state });
    const lean = route(table, { number: '441', gatewayState: state, explain: false });
    expect(lean).toMatchObject({ outcome: full.outcome, ruleId: 2, prefix: '4', gateways: ['b', 'c'] });
    expect(lean.decision.targets.map((t) => t.uri)).toEqual(full.decision.targets.map((t) => t.uri));
    expect(full.decision.rules).toHaveLength(3);
    expect(lean.decision.rules).toEqual([]);
    expect(full.decision.destinations).toHaveLength(3);
    expect(lean.decision.destinations.map((d) => d.gateway.gwid)).toEqual(['b', 'c']);
  });
});

describe('Request-URI rewrite', () => {
  const table = tableOf({
    gateways: [
      gatewayRow('strip', { address: '127.0.0.2:5080', strip: 3, pri_prefix: '00' }),
      gatewayRow('params', { address: 'sip:ignored@127.0.0.3;transport=tcp' }),
      gatewayRow('tls', { address: 'sips:127.0.0.4:5061' }),
    ],
    rules: [ruleRow(1, '011', 'strip,params,tls')],
  });
  const uri = (text: string) => {
    const parsed = parseSipUri(text);
    if (!parsed.ok) throw new Error(parsed.error);
    return parsed.uri;
  };

  it('strips, prefixes, swaps host:port, merges params, keeps sips: and headers', () => {
    const result = route(table, {
      number: '01144201234',
      requestUri: uri('sip:01144201234@proxy.example;user=phone;x-tag=1?X-Foo=1'),
    });
    expect(result.decision.targets.map((t) => t.uri)).toEqual([
      'sip:0044201234@127.0.0.2:5080;user=phone;x-tag=1?X-Foo=1',
      'sip:01144201234@127.0.0.3;transport=tcp;user=phone;x-tag=1?X-Foo=1',
      'sips:01144201234@127.0.0.4:5061;user=phone;x-tag=1?X-Foo=1',
    ]);
  });

  it("drops the caller's transport and maddr, which described the host the gateway's replaces", () => {
    const result = route(table, {
      number: '01144201234',
      requestUri: uri('sip:01144201234@proxy.example;Transport=TLS;maddr=192.0.2.1;user=phone'),
    });
    expect(result.decision.targets.map((t) => t.uri)).toEqual([
      'sip:0044201234@127.0.0.2:5080;user=phone',
      'sip:01144201234@127.0.0.3;transport=tcp;user=phone',
      'sips:01144201234@127.0.0.4:5061;user=phone',
    ]);
  });

  it('keeps a sips: Request-URI secure on a sip: gateway', () => {
    const result = route(table, { number: '0114', requestUri: uri('sips:0114@proxy.example') });
    expect(result.decision.targets[0]?.uri).toBe('sips:004@127.0.0.2:5080');
  });

  it('builds sip:<number>@<gateway> when no Request-URI is given, and drops an all-stripped user', () => {
    expect(route(table, { number: '011' }).decision.targets.map((t) => t.uri)).toEqual([
      'sip:00@127.0.0.2:5080',
      'sip:011@127.0.0.3;transport=tcp',
      'sips:011@127.0.0.4:5061',
    ]);
  });
});
