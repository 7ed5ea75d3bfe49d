import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { formatRowProblem, RoutingDataError } from '../../src/errors.js';
import { routingServiceOptions } from '../../src/routing/core/routing-options.js';
import { RoutingService } from '../../src/routing/routing-service.js';
import type { KnexStore } from '../../src/store/knex/knex-store.js';
import { prepareStore } from '../../src/store/knex/open-store.js';
import { databaseKinds, type ScratchDatabase } from '../support/databases.js';
import { applyOpensipsDdl, opensipsDdlMissing } from '../support/upstream-ddl.js';

/**
 * Rows OpenSIPS 3.x loads, or skips one by one, on a real store: the node
 * loads the rest, names each row it skipped, and routes as OpenSIPS would.
 * On SQLite and on MariaDB the tables are OpenSIPS's own DDL (its
 * scripts/sqlite and scripts/mysql; gwlist NULL-able there since 3.2) when
 * DROUTER_TEST_OPENSIPS_DIR names its tree, else our migrations.
 */

const AT = new Date('2026-11-26T10:00:00Z');

const ROWS = [
  "INSERT INTO dr_gateways (id, gwid, type, address, strip, probe_mode, state) VALUES (1, 'gw1', 0, '127.0.0.2:5060', 0, 0, 0), (2, 'gw2', 0, '127.0.0.3:5060', 0, 0, 0), (3, 'gw3', 0, '127.0.0.4:5060', 0, 3, 0)",
  "INSERT INTO dr_carriers (id, carrierid, gwlist, flags, sort_alg, state) VALUES (1, 'con', 'gw2', 2, 'N', 0), (2, 'cempty', '', 0, 'N', 0), (3, 'cdup', 'gw2,gw1', 1, 'N', 0)",
  [
    'INSERT INTO dr_rules (ruleid, groupid, prefix, timerec, priority, routeid, gwlist, sort_alg) VALUES',
    "(1, '0', '1', NULL, 0, 'only_script', NULL, 'N'),",
    "(2, '0', '2', NULL, 0, NULL, 'gw1,gwX', 'N'),",
    "(3, '0', '3', 'garbage', 0, NULL, 'gw1', 'N'),",
    "(4, '0', '4', NULL, 0, NULL, 'gw3,gw2', 'N'),",
    "(5, '0', '5', NULL, 0, NULL, 'gw2,gw1', 'w'),",
    "(6, '0', '6', NULL, 0, NULL, '#cempty,#con', 'N'),",
    "(7, '0', '7', NULL, 0, NULL, 'gw1,gw2;gw1', 'N'),",
    "(8, '0', '8', NULL, 0, 'only_script', '', 'N'),",
    "(9, '0', '9', NULL, 0, NULL, 'gw2,#cdup', 'N')",
  ].join(' '),
];

describe.each(databaseKinds())('rows OpenSIPS 3.x skips or accepts, on $name', (kind) => {
  let scratch: ScratchDatabase;
  let store: KnexStore;

  beforeEach(async () => {
    scratch = await kind.create('osrows');
    if (opensipsDdlMissing() === '') await applyOpensipsDdl(kind, scratch);
    store = (await prepareStore(scratch.url, { seedExample: false })).store;
    for (const sql of ROWS) await scratch.exec(sql);
  }, 30_000);
  afterEach(async () => {
    await store.close();
    await scratch.drop();
  });

  function service(routing: Record<string, unknown> = {}): RoutingService {
    return new RoutingService(
      store,
      routingServiceOptions(configSchema.parse({ routing }).routing, 'UTC', configSchema.parse({}).sip),
      { now: () => AT },
    );
  }

  it('loads the rest, names the rows it skipped, and routes as OpenSIPS does', async () => {
    const routing = service();
    const report = await routing.load();
    expect(report.skipped.map(formatRowProblem)).toEqual([
      'dr_gateways row id=3 (gwid "gw3"): column probe_mode = 3: allowed: 0 (never probe), 1 (probe while disabled), 2 (always probe): row skipped',
      expect.stringMatching(/^dr_rules row ruleid=3: column timerec = "garbage": .*: row skipped$/),
      'dr_rules row ruleid=7: column gwlist = "gw1,gw2;gw1": ";" at position 8 is not a separator (, |): row skipped',
    ]);
    expect(report.counts).toMatchObject({ gateways: 2, carriers: 3, rules: 7 });
    expect(routing.current.skipped).toHaveLength(3);
    const answer = (number: string) => {
      const decision = routing.route({ number, group: 0 });
      return [decision.outcome, ...decision.targets.map((target) => target.gateway.gwid)];
    };
    expect(answer('100')).toEqual(['no-gateway']);
    expect(answer('200')).toEqual(['routed', 'gw1']);
    expect(answer('300')).toEqual(['no-rule']);
    expect(answer('400')).toEqual(['routed', 'gw2']);
    expect(answer('500')).toEqual(['routed', 'gw2', 'gw1']);
    expect(answer('600')).toEqual(['routed', 'gw2']);
    expect(answer('700')).toEqual(['no-rule']);
    expect(answer('800')).toEqual(['no-gateway']);
    // cdup is first-only and its first gateway is gw2, which the rule listed already: OpenSIPS offers it again.
    expect(answer('900')).toEqual(['routed', 'gw2', 'gw2']);
  });

  it('gateways listed twice, zero weights, prefixes of + or a leading blank, groupid 1,x and sockets: as OpenSIPS 3.5.9 reads them', async () => {
    await scratch.exec(
      "INSERT INTO dr_gateways (id, gwid, type, address, strip, probe_mode, state, socket) VALUES (4, 'gw4', 0, '127.0.0.7:5060', 0, 0, 0, 'udp:127.0.0.1:5060'), (5, 'gw5', 0, '127.0.0.8:5060', 0, 0, 0, 'foo:127.0.0.1'), (6, 'gw6', 0, '127.0.0.9:5060', 0, 0, 0, 'udp:192.0.2.1:5060')",
    );
    await scratch.exec(
      [
        'INSERT INTO dr_rules (ruleid, groupid, prefix, priority, gwlist, sort_alg) VALUES',
        "(20, '0', '20', 0, 'gw1,gw1,gw2,#con', 'N'),",
        "(21, '0', '21', 0, 'gw1=0,gw2,gw4=0', 'W'),",
        "(22, '0', '22', 0, 'gw1=0,gw2=0,gw4=5', 'W'),",
        "(23, '0', '+23', 0, 'gw1', 'N'),",
        "(24, '0', ' 24', 0, 'gw1', 'N'),",
        "(25, '1,x', '25', 0, 'gw1', 'N'),",
        "(26, '0', '26', 0, 'gw4,gw5,gw6', 'N'),",
        "(27, '0', '', 0, 'gw2', 'N')",
      ].join(' '),
    );
    const routing = service();
    const report = await routing.load();
    expect(report.skipped.map(formatRowProblem).filter((line) => /ruleid=2\d/.test(line))).toEqual([
      'dr_rules row ruleid=23: column prefix = "+23": character "+" at position 1 is not a prefix character (digits; routing.extraPrefixChars adds others): row skipped',
      'dr_rules row ruleid=24: column prefix = " 24": character " " at position 1 is not a prefix character (digits; routing.extraPrefixChars adds others): row skipped',
      'dr_rules row ruleid=25: column groupid = "1,x": a list of group numbers separated by , | or blanks: row skipped',
    ]);
    expect(report.warnings.map(formatRowProblem).filter((line) => line.includes('column socket'))).toEqual([
      'dr_gateways row id=5 (gwid "gw5"): column socket = "foo:127.0.0.1": is no [proto:]host[:port] socket: ignored, the gateway loads without it, as OpenSIPS 3.x loads it',
      'dr_gateways row id=6 (gwid "gw6"): column socket = "udp:192.0.2.1:5060": is not one of our sockets (udp:127.0.0.1:5060, tcp:127.0.0.1:5060): ignored, the gateway loads without it, as OpenSIPS 3.x loads it',
    ]);
    const answer = (number: string) => {
      const decision = routing.route({ number, group: 0 });
      return [decision.outcome, ...decision.targets.map((target) => target.gateway.gwid)];
    };
    expect(answer('2000')).toEqual(['routed', 'gw1', 'gw1', 'gw2', 'gw2']);
    // W with every weight 0 or none keeps the list order, with nothing drawn.
    expect(answer('2100')).toEqual(['routed', 'gw1', 'gw2', 'gw4']);
    // The one weighted entry first, then the zeros in the order 3.5.9's swap leaves them.
    expect(answer('2200')).toEqual(['routed', 'gw4', 'gw2', 'gw1']);
    // The + and blank rules are not loaded: +2300 has the default rule only, 2400 the rule of prefix 2.
    expect(routing.route({ number: '+2300', group: 0 }).ruleId).toBe(27);
    expect(routing.route({ number: '2400', group: 0 }).ruleId).toBe(2);
    expect(routing.route({ number: '2500', group: 1 }).outcome).toBe('no-rule');
    expect(answer('2600')).toEqual(['routed', 'gw4', 'gw5', 'gw6']);
    expect(routing.current.skipped.map((p) => p.row)).not.toContain('id=4 (gwid "gw4")');

    const asBefore = service({ repeatGateways: 'once', extraPrefixChars: '+' });
    await asBefore.load();
    expect(asBefore.route({ number: '2000', group: 0 }).targets.map((target) => target.gateway.gwid)).toEqual([
      'gw1',
      'gw2',
    ]);
    expect(asBefore.route({ number: '+2300', group: 0 }).ruleId).toBe(23);
  });

  it('with routing.strict refuses the load, naming every row it would skip', async () => {
    const error = await service({ strict: true })
      .load()
      .then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
    expect(error).toBeInstanceOf(RoutingDataError);
    expect((error as RoutingDataError).problems.map((p) => `${p.table} ${p.row} ${p.column}`)).toEqual([
      'dr_gateways id=3 (gwid "gw3") probe_mode',
      'dr_rules ruleid=3 timerec',
      'dr_rules ruleid=7 gwlist',
    ]);
  });

  it('with routing.dialect opensips-1 reads ; as a separator (ids are integers there: the gw rows are skipped)', async () => {
    await scratch.exec(
      "INSERT INTO dr_gateways (id, gwid, type, address, strip, probe_mode, state) VALUES (11, '11', 0, '127.0.0.5:5060', 0, 0, 0), (12, '12', 0, '127.0.0.6:5060', 0, 0, 0)",
    );
    await scratch.exec(
      "INSERT INTO dr_rules (ruleid, groupid, prefix, priority, gwlist, sort_alg) VALUES (20, '0', '20', 0, '11;12', 'N')",
    );
    const routing = service({ dialect: 'opensips-1' });
    await routing.load();
    expect(routing.route({ number: '2000', group: 0 }).targets.map((target) => target.gateway.gwid)).toEqual([
      '11',
      '12',
    ]);
    expect(routing.current.skipped.map((p) => p.row)).toContain('id=1 (gwid "gw1")');
  });
});
