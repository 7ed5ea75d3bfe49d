import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds, type ScratchDatabase } from '../support/databases.js';
import { freePort } from '../support/drouter-process.js';
import { startTestServer, type TestServer } from '../support/drouter-server.js';
import { opensipsDbUrl, writeOpensipsTables } from '../support/opensips/differential.js';
import { miScript } from '../support/opensips/opensips-mi.js';
import { OPENSIPS_DIR, OpenSipsProcess, opensipsMissing } from '../support/opensips/opensips-process.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Our POST /mi against OpenSIPS 3.5.9's own mi_http (docs/admin-api.md,
 * "OpenSIPS MI over HTTP"): the same drouting rows, written with
 * OpenSIPS's DDL into one MariaDB database, read by an OpenSIPS with
 * httpd + mi_http and by our server; every request sent to both, in the
 * same order, and the two HTTP answers (status and JSON body, envelope
 * and all) compared whole. Once without partitions, once with two
 * (dr_partitions). Needs DROUTER_TEST_MYSQL_URL and a built OpenSIPS
 * (DROUTER_TEST_OPENSIPS_DIR); skipped without them, unless
 * DROUTER_TEST_OPENSIPS is set: then missing is a failure.
 */

const MISSING = opensipsMissing();
/** A 3.2 timerec valid only on 2020-01-01: out of time whatever the time zone. */
const EXPIRED = '20200101T000000|20200102T000000';

const gateway = (gwid: string, address: string, more: object = {}) => ({
  gwid,
  type: 0,
  address,
  strip: 0,
  probe_mode: 0,
  state: 0,
  ...more,
});
const rule = (ruleid: number, groupid: string, prefix: string, gwlist: string, more: object = {}) => ({
  ruleid,
  groupid,
  prefix,
  gwlist,
  priority: 0,
  sort_alg: 'N',
  ...more,
});

/** Each kind of gateway state, address and carrier flag, and rules that match by prefix, by default, out of time and by group. */
const ROWS = {
  dr_gateways: [
    gateway('2', 'sip:127.0.0.2:5060'),
    gateway('3', '127.0.0.3:5080;transport=tcp', { state: 2 }),
    gateway('10', '127.0.0.10', { probe_mode: 2, attrs: 'media=yes' }),
    gateway('p1', '127.0.0.11', { probe_mode: 1, state: 2 }),
    gateway('off', '127.0.0.12', { state: 1 }),
    gateway('u', 'sip:trunk@127.0.0.13:5062'),
  ],
  dr_carriers: [
    { carrierid: 'CR1', gwlist: '2', flags: 0, sort_alg: 'N', state: 1 },
    { carrierid: 'CR0', gwlist: '3,10', flags: 1, sort_alg: 'N', state: 0, attrs: 'tier=2' },
    { carrierid: 'CRF', gwlist: 'u', flags: 2, sort_alg: 'N', state: 0 },
  ],
  dr_rules: [
    rule(1, '0', '4420', '2,#CR1,3', { attrs: 'uk-london' }),
    rule(2, '0', '', '3'),
    rule(3, '0', '44', '2', { timerec: EXPIRED }),
    rule(4, '5', '1', '10'),
    rule(5, '0,5', '33', '#CR0,p1'),
    rule(6, '0', '449', 'off,u', { priority: 1 }),
  ],
};

/** The second partition's tables, under names of their own (dr_partitions drd_table …), the same gwid `2` as the first's. */
const PART_2_TABLES = {
  dr_gateways: 'p2_gateways',
  dr_rules: 'p2_rules',
  dr_carriers: 'p2_carriers',
  dr_groups: 'p2_groups',
};
/** The versions OpenSIPS checks each table against (drouting.c), for the copies too. */
const TABLE_VERSIONS: Record<string, number> = { dr_gateways: 6, dr_rules: 4, dr_carriers: 3, dr_groups: 2 };
const PART_2_ROWS = {
  p2_gateways: [gateway('my_gw', '10.0.0.1', { state: 1 }), gateway('2', '10.0.0.2:5070')],
  p2_carriers: [{ carrierid: 'CR1', gwlist: 'my_gw', flags: 0, sort_alg: 'N', state: 0 }],
  p2_rules: [rule(1, '3', '', 'my_gw,#CR1')],
};

interface HttpAnswer {
  status: number;
  body: unknown;
}

async function post(url: string, body: string): Promise<HttpAnswer> {
  const answer = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(5000),
  });
  const text = await answer.text();
  return { status: answer.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

const call = (method: string, params?: unknown, id: unknown = 7) =>
  JSON.stringify({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }), id });

const hasResult = (body: unknown) => typeof body === 'object' && body !== null && 'result' in body;

/** The answer with every `Date` (each side's own last reload) blanked. */
function withoutDates(answer: HttpAnswer): HttpAnswer {
  return JSON.parse(
    JSON.stringify(answer, (key, value: unknown) => (key === 'Date' && typeof value === 'string' ? 'DATE' : value)),
  ) as HttpAnswer;
}

interface Sides {
  /** One request to both; the answers must be the same (`normalize`d first). Returns OpenSIPS's. */
  both: (body: string, normalize?: (answer: HttpAnswer) => HttpAnswer) => Promise<HttpAnswer>;
  ourUrl: string;
  theirUrl: string;
}

/** OpenSIPS (on `opensipsAddress`) and our server (on `ourAddress`) on one scratch database that `write` fills. */
function againstOpenSips(setup: {
  opensipsAddress: string;
  ourAddress: string;
  partitioned: boolean;
  write(scratch: ScratchDatabase, database: string): Promise<void>;
}): Sides {
  let scratch: ScratchDatabase | undefined;
  let opensips: OpenSipsProcess | undefined;
  let ours: TestServer | undefined;
  const sides: Sides = {
    ourUrl: '',
    theirUrl: '',
    async both(body, normalize = (answer) => answer) {
      const theirs = normalize(await post(sides.theirUrl, body));
      expect(normalize(await post(sides.ourUrl, body)), `${body}\nOpenSIPS answered ${JSON.stringify(theirs)}`).toEqual(
        theirs,
      );
      return theirs;
    },
  };

  beforeAll(async () => {
    const mysql = databaseKinds().find((kind) => kind.name === 'mysql');
    if (!mysql) throw new Error('DROUTER_TEST_MYSQL_URL is not set');
    scratch = await mysql.create('mi');
    const database = new URL(scratch.url).pathname.slice(1);
    await setup.write(scratch, database);
    const httpPort = await freePort();
    const options = {
      dir: OPENSIPS_DIR ?? '',
      address: setup.opensipsAddress,
      port: 5060,
      dbUrl: opensipsDbUrl(process.env.DROUTER_TEST_MYSQL_URL ?? '', database),
    };
    const started = new OpenSipsProcess(options, miScript({ ...options, httpPort, partitioned: setup.partitioned }));
    opensips = started;
    await started.start();
    sides.theirUrl = `http://${setup.opensipsAddress}:${httpPort}/mi`;
    ours = await startTestServer(setup.ourAddress, {
      store: { url: scratch.url },
      admin: { port: await freePort() },
      routing: { partitions: { enabled: setup.partitioned } },
    });
    sides.ourUrl = `${ours.server.adminUrl}/mi`;
    // OpenSIPS answers its MI before drouting has loaded the rules ("No Data
    // available yet", per partition): ready is every partition answering with data.
    const partitions = setup.partitioned ? [{ partition_name: 'part_1' }, { partition_name: 'part_2' }] : [undefined];
    await waitFor(
      "OpenSIPS to answer its MI with each partition's gateways",
      20_000,
      async () => {
        if (!started.running) throw new Error('it exited');
        const answers = await Promise.all(
          partitions.map((params) => post(sides.theirUrl, call('dr_gw_status', params))),
        );
        return answers.every((answer) => hasResult(answer.body)) ? true : undefined;
      },
      { detail: () => started.log },
    );
  }, 60_000);
  afterAll(async () => {
    await ours?.close();
    await opensips?.stop();
    await scratch?.drop();
  });
  return sides;
}

const title = (what: string) =>
  `our MI over HTTP against OpenSIPS 3.5.9's mi_http, ${what}${MISSING ? ` (skipped: ${MISSING})` : ''}`;

describe.skipIf(MISSING !== '')(title('on the same rows'), () => {
  const sides = againstOpenSips({
    opensipsAddress: '127.0.0.250',
    ourAddress: '127.0.0.251',
    partitioned: false,
    write: (_scratch, database) =>
      writeOpensipsTables(
        { mysqlUrl: process.env.DROUTER_TEST_MYSQL_URL ?? '', opensipsDir: OPENSIPS_DIR ?? '' },
        database,
        ROWS,
      ),
  });
  const both = sides.both;

  it('lists gateways and carriers alike: order, IP, ATTRS, State, Enabled', async () => {
    expect((await both(call('dr_gw_status'))).status).toBe(200);
    for (const gwid of ['2', '3', '10', 'p1', 'off', 'u', 'nope']) await both(call('dr_gw_status', { gw_id: gwid }));
    await both(call('dr_carrier_status'));
    for (const carrierid of ['CR1', 'CR0', 'CRF', 'nope'])
      await both(call('dr_carrier_status', { carrier_id: carrierid }));
    expect(await both(call('dr_reload_status'), withoutDates)).toEqual({
      status: 200,
      body: { jsonrpc: '2.0', result: { Date: 'DATE' }, id: 7 },
    });
  });

  it('routes numbers alike with dr_number_routing: prefixes, defaults, rules out of time, groups, characters outside the alphabet', async () => {
    for (const [group, number] of [
      [0, '442079460000'],
      ['0', '4499'],
      [0, '4410'],
      [5, '3312'],
      [0, '3312'],
      [5, '1555'],
      [7, '1555'],
      [0, '+4420'],
    ] as const) {
      await both(call('dr_number_routing', { group_id: group, number }));
    }
    // No group_id, routing.defaultGroup none (the default): "No match" on both (OpenSIPS asks for group -1, which no rule has).
    await both(call('dr_number_routing', { number: '442079460000' }));
  });

  it('refuses alike: parameter sets, types, partitions, methods, JSON and JSON-RPC; ids and notifications as OpenSIPS', async () => {
    for (const body of [
      call('dr_gw_status', { partition_name: 'p' }),
      call('dr_reload', { partition_name: 'p' }),
      call('dr_gw_status', { gw_id: '2', status: 'off' }),
      call('dr_gw_status', ['2']),
      call('dr_gw_status', { status: 1 }),
      call('dr_gw_status', { a: 1, b: 2, c: 3, d: 4 }),
      call('dr_reload', ['y']),
      call('dr_nothing'),
      call('dr_gw_status', { gw_id: '2' }, 'an-id'),
      call('dr_gw_status', { gw_id: '2' }, null),
      '{"jsonrpc":"2.0","method":',
      '{"jsonrpc":"1.0","method":"dr_gw_status","id":3}',
      '{"jsonrpc":"2.0","method":"dr_gw_status","params":"x","id":3}',
      '[{"jsonrpc":"2.0","method":"dr_gw_status","id":3}]',
      '{"jsonrpc":"2.0","method":"dr_gw_status"}',
    ]) {
      await both(body);
    }
  });

  it('answers which alike for each of our commands (what opensips-cli asks before it sends one), and lists none OpenSIPS lacks', async () => {
    const ours = (await post(sides.ourUrl, call('which'))).body as { result: string[] };
    const theirs = (await post(sides.theirUrl, call('which'))).body as { result: string[] };
    expect(ours.result).toEqual([
      'which',
      'dr_reload',
      'dr_gw_status',
      'dr_carrier_status',
      'dr_number_routing',
      'dr_reload_status',
      'dr_enable_probing',
    ]);
    expect(theirs.result).toEqual(expect.arrayContaining(ours.result));
    for (const command of [...ours.result, 'nope']) await both(call('which', { command }));
  });

  it('answers GET with 405 alike (an empty POST is not asked: mi_http would answer 400, but httpd never passes it on and 3.5.9 leaves it unanswered)', async () => {
    const get = async (url: string) => (await fetch(url, { signal: AbortSignal.timeout(5000) })).status;
    expect([await get(sides.ourUrl), await get(sides.theirUrl)]).toEqual([405, 405]);
  });

  it('reloads, then changes gateway, carrier and probing state alike, read back by both', async () => {
    await both(call('dr_reload'));
    await both(call('dr_reload', { inherit_state: 'n' }));
    await both(call('dr_gw_status', { gw_id: '2', status: 0 }));
    await both(call('dr_gw_status', { gw_id: 'p1', status: 1 }));
    await both(call('dr_gw_status', { gw_id: 'nope', status: 1 }));
    await both(call('dr_carrier_status', { carrier_id: 'CR1', status: 1 }));
    await both(call('dr_carrier_status', { carrier_id: 'CR0', status: '0' }));
    expect(await both(call('dr_gw_status'))).toMatchObject({
      body: {
        result: {
          Gateways: expect.arrayContaining([{ ID: '2', IP: '127.0.0.2:5060', State: 'Disabled MI' }]) as unknown,
        },
      },
    });
    await both(call('dr_carrier_status'));
    await both(call('dr_enable_probing', { status: 0 }));
    expect(await both(call('dr_enable_probing'))).toEqual({
      status: 200,
      body: { jsonrpc: '2.0', result: { Status: 0 }, id: 7 },
    });
  });
});

describe.skipIf(MISSING !== '')(title('with two partitions (dr_partitions)'), () => {
  const { both } = againstOpenSips({
    opensipsAddress: '127.0.0.248',
    ourAddress: '127.0.0.249',
    partitioned: true,
    async write(scratch, database) {
      const dbUrl = opensipsDbUrl(process.env.DROUTER_TEST_MYSQL_URL ?? '', database);
      await writeOpensipsTables(
        { mysqlUrl: process.env.DROUTER_TEST_MYSQL_URL ?? '', opensipsDir: OPENSIPS_DIR ?? '' },
        database,
        {
          ...ROWS,
          dr_partitions: [
            { partition_name: 'part_1', db_url: dbUrl },
            {
              partition_name: 'part_2',
              db_url: dbUrl,
              drd_table: PART_2_TABLES.dr_gateways,
              drr_table: PART_2_TABLES.dr_rules,
              drc_table: PART_2_TABLES.dr_carriers,
              drg_table: PART_2_TABLES.dr_groups,
            },
          ],
        },
      );
      for (const [table, copy] of Object.entries(PART_2_TABLES)) {
        await scratch.exec(`CREATE TABLE \`${copy}\` LIKE \`${table}\``);
        await scratch.exec('INSERT INTO version (table_name, table_version) VALUES (?, ?)', [
          copy,
          TABLE_VERSIONS[table],
        ]);
      }
      for (const [table, rows] of Object.entries(PART_2_ROWS))
        for (const row of rows) await scratch.exec(`INSERT INTO \`${table}\` SET ?`, [row]);
    },
  });

  it('lists, reads and sets each partition by its own ids; the same gwid in the other partition stays as it was', async () => {
    for (const partition of ['part_1', 'part_2']) {
      await both(call('dr_gw_status', { partition_name: partition }));
      await both(call('dr_carrier_status', { partition_name: partition }));
      await both(call('dr_gw_status', { partition_name: partition, gw_id: '2' }));
    }
    await both(call('dr_gw_status', { partition_name: 'part_2', gw_id: 'my_gw' }));
    await both(call('dr_gw_status', { partition_name: 'part_1', gw_id: 'my_gw' }));
    await both(call('dr_gw_status', { partition_name: 'part_2', gw_id: '2', status: 0 }));
    await both(call('dr_carrier_status', { partition_name: 'part_2', carrier_id: 'CR1', status: 0 }));
    for (const partition of ['part_1', 'part_2']) {
      await both(call('dr_gw_status', { partition_name: partition }));
      await both(call('dr_carrier_status', { partition_name: partition }));
    }
  });

  it('routes numbers in the partition named', async () => {
    await both(call('dr_number_routing', { partition_name: 'part_2', group_id: 3, number: '3312' }));
    await both(call('dr_number_routing', { partition_name: 'part_1', group_id: 0, number: '442079460000' }));
    await both(call('dr_number_routing', { partition_name: 'part_1', group_id: 3, number: '3312' }));
  });

  it('requires partition_name where OpenSIPS does, refuses one it does not know, reloads all or the one named', async () => {
    for (const body of [
      call('dr_gw_status'),
      call('dr_gw_status', { gw_id: '2' }),
      call('dr_carrier_status', { carrier_id: 'CR1', status: 1 }),
      call('dr_number_routing', { number: '3312' }),
      call('dr_gw_status', { partition_name: 'nope' }),
      call('dr_number_routing', { partition_name: 'nope', number: '3312' }),
      call('dr_reload', { partition_name: 'nope' }),
      call('dr_reload'),
      call('dr_reload', { partition_name: 'part_2' }),
    ]) {
      await both(body);
    }
    await both(call('dr_reload_status'), withoutDates);
    await both(call('dr_reload_status', { partition_name: 'part_2' }), withoutDates);
  });
});
