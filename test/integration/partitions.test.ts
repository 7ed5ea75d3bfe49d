import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { formatRowProblem, SchemaError } from '../../src/errors.js';
import { routingServiceOptions } from '../../src/routing/core/routing-options.js';
import { RoutingService } from '../../src/routing/routing-service.js';
import { prepareStore } from '../../src/store/knex/open-store.js';
import { PartitionStores } from '../../src/store/knex/partition-stores.js';
import { parseSipUri, type SipUri } from '../../src/sip/core/uri.js';
import { databaseKinds, type DatabaseKind, type ScratchDatabase } from '../support/databases.js';
import { finalResponse, inviteFrom } from '../support/calling-phone.js';
import { freePort, runDrouter } from '../support/drouter-process.js';
import { startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { OPENSIPS_DIR } from '../support/opensips/opensips-process.js';
import { ScriptedGateway } from '../support/scripted-gateway.js';
import { UdpPeer } from '../support/udp-peer.js';
import { itUnless } from '../support/skip-reason.js';

/**
 * OpenSIPS 3.x partitions on a real store: dr_partitions names two data
 * sets, one in the database of dr_partitions under other table names, one
 * in another database under the usual ones; each has a gateway gw1 of its
 * own. On MariaDB the tables are OpenSIPS's own DDL when
 * DROUTER_TEST_OPENSIPS_DIR names its tree, else our migrations plus the
 * dr_partitions columns of that DDL.
 */

const AT = new Date('2026-11-26T10:00:00Z');

/** dr_partitions as OpenSIPS 3.x's scripts/mysql/drouting-create.sql declares it (version 1). */
const DR_PARTITIONS_DDL = `CREATE TABLE dr_partitions (
  id INTEGER PRIMARY KEY NOT NULL, partition_name CHAR(255) NOT NULL, db_url CHAR(255) NOT NULL,
  drd_table CHAR(255), drr_table CHAR(255), drg_table CHAR(255), drc_table CHAR(255),
  ruri_avp CHAR(255), gw_id_avp CHAR(255), gw_priprefix_avp CHAR(255), gw_sock_avp CHAR(255),
  rule_id_avp CHAR(255), rule_prefix_avp CHAR(255), carrier_id_avp CHAR(255))`;

const TENANT_A_TABLES = {
  dr_gateways: 'a_gateways',
  dr_rules: 'a_rules',
  dr_carriers: 'a_carriers',
  dr_groups: 'a_groups',
};

/** The drouting tables: OpenSIPS's DDL where the test has it (MariaDB), else ours (drouter migrate's). */
async function createDroutingTables(kind: DatabaseKind, scratch: ScratchDatabase): Promise<void> {
  if (kind.name === 'mysql' && OPENSIPS_DIR) {
    for (const file of ['standard-create.sql', 'drouting-create.sql'])
      await scratch.exec(readFileSync(join(OPENSIPS_DIR, 'scripts', 'mysql', file), 'utf8'));
    return;
  }
  const { store } = await prepareStore(scratch.url, { seedExample: false });
  await store.close();
  await scratch.exec(DR_PARTITIONS_DDL);
}

/** A table of the same columns under another name (a partition's drd_table …). */
async function copyTableShape(kind: DatabaseKind, scratch: ScratchDatabase, from: string, to: string): Promise<void> {
  if (kind.name === 'mysql') {
    await scratch.exec(`CREATE TABLE ${to} LIKE ${from}`);
    return;
  }
  const [row] = await scratch.exec('SELECT sql FROM sqlite_master WHERE name = ?', [from]);
  await scratch.exec(String(row?.sql).replace(/CREATE TABLE [`"]?\w+[`"]?/, `CREATE TABLE ${to}`));
}

function uri(text: string): SipUri {
  const parsed = parseSipUri(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.uri;
}

function gatewaysSql(table: string, address: string): string {
  return `INSERT INTO ${table} (id, gwid, type, address, strip, probe_mode, state) VALUES (1, 'gw1', 0, '${address}', 0, 0, 0), (2, 'gw2', 0, '127.0.0.9:5060', 0, 0, 0)`;
}

function rulesSql(table: string, extra = ''): string {
  return `INSERT INTO ${table} (ruleid, groupid, prefix, timerec, priority, gwlist, sort_alg) VALUES (1, '0', '44', NULL, 0, 'gw1,gw2', 'N')${extra}`;
}

/** What dr_partitions URL names `database`: OpenSIPS's own spelling of it (db_sqlite writes sqlite:///PATH). */
function openSipsUrlOf(database: ScratchDatabase): string {
  return database.url.startsWith('sqlite:') ? `sqlite://${database.url.slice('sqlite:'.length)}` : database.url;
}

/**
 * Partition tenant-a in `main` (dr_partitions' database) under a_* table
 * names, its gw1 at `addressA`; tenant-b in `other` under the usual names,
 * its gw1 at `addressB`, and a rule with a garbage timerec. Both route 44
 * to gw1 then gw2 (127.0.0.9).
 */
async function plantPartitions(
  kind: DatabaseKind,
  addressA: string,
  addressB: string,
): Promise<{ main: ScratchDatabase; other: ScratchDatabase }> {
  const main = await kind.create('parts');
  const other = await kind.create('partsb');
  await createDroutingTables(kind, main);
  await createDroutingTables(kind, other);
  for (const [from, to] of Object.entries(TENANT_A_TABLES)) await copyTableShape(kind, main, from, to);
  await main.exec(gatewaysSql('a_gateways', addressA));
  await main.exec(rulesSql('a_rules'));
  await other.exec(gatewaysSql('dr_gateways', addressB));
  await other.exec(rulesSql('dr_rules', ", (2, '0', '45', 'garbage', 0, 'gw1', 'N')"));
  await main.exec(
    `INSERT INTO dr_partitions (id, partition_name, db_url, drd_table, drr_table, drg_table, drc_table) VALUES (1, 'tenant-a', '', 'a_gateways', 'a_rules', 'a_groups', 'a_carriers'), (2, 'tenant-b', ?, NULL, NULL, NULL, NULL)`,
    [openSipsUrlOf(other)],
  );
  return { main, other };
}

describe.each(databaseKinds())('dr_partitions on $name', (kind) => {
  let main: ScratchDatabase;
  let other: ScratchDatabase;
  let stores: PartitionStores;

  beforeEach(async () => {
    ({ main, other } = await plantPartitions(kind, '127.0.0.2:5060', '127.0.0.3:5060'));
    stores = new PartitionStores({ table: 'dr_partitions', url: main.url });
  }, 30_000);
  afterEach(async () => {
    await stores.close();
    await main.drop();
    await other.drop();
  });

  function service(partitions: Record<string, unknown> = {}): RoutingService {
    const config = configSchema.parse({
      routing: { partitions: { enabled: true, default: 'tenant-a', ...partitions } },
    });
    return new RoutingService(stores, routingServiceOptions(config.routing, 'UTC', config.sip), { now: () => AT });
  }

  const targets = (routing: RoutingService, query: { partition?: string; host?: string }) =>
    routing
      .route({
        number: '4412345',
        group: 0,
        partition: query.partition,
        requestUri: query.host === undefined ? undefined : uri(`sip:4412345@${query.host}`),
      })
      .targets.map((target) => target.uri);

  it('routes each partition from its own tables, gateway ids kept apart as partition:gwid', async () => {
    const routing = service();
    const report = await routing.load();
    expect(report.counts).toEqual({ gateways: 4, carriers: 0, rules: 2, callers: 0 });
    expect([...routing.current.destinations.gateways.keys()].sort()).toEqual([
      'tenant-a:gw1',
      'tenant-a:gw2',
      'tenant-b:gw1',
      'tenant-b:gw2',
    ]);
    expect(targets(routing, { partition: 'tenant-a' })).toEqual([
      'sip:4412345@127.0.0.2:5060',
      'sip:4412345@127.0.0.9:5060',
    ]);
    expect(targets(routing, { partition: 'tenant-b' })).toEqual([
      'sip:4412345@127.0.0.3:5060',
      'sip:4412345@127.0.0.9:5060',
    ]);
    const decision = routing.route({ number: '4412345', group: 0, partition: 'tenant-b' });
    expect(decision.targets.map((target) => target.gateway.gwid)).toEqual(['tenant-b:gw1', 'tenant-b:gw2']);
    expect(decision.partition).toEqual({ name: 'tenant-b', detail: 'partition tenant-b given' });
  });

  it("names a skipped row with its partition and table; a partition's skipped row leaves the others whole", async () => {
    const report = await service().load();
    expect(report.skipped.map(formatRowProblem)).toEqual([
      expect.stringMatching(/^tenant-b:dr_rules row ruleid=2: column timerec = "garbage": .*: row skipped$/),
    ]);
  });

  it('writes a gateway state back to its own partition only', async () => {
    const routing = service();
    await routing.load();
    await stores.writeGatewayStates(new Map([['tenant-b:gw1', 2]]));
    expect((await other.exec("SELECT state FROM dr_gateways WHERE gwid = 'gw1'"))[0]?.state).toBe(2);
    expect((await main.exec("SELECT state FROM a_gateways WHERE gwid = 'gw1'"))[0]?.state).toBe(0);
    await stores.writeCarrierState('tenant-a:nope', 1);
  });

  it('reads dr_partitions again at each reload: a partition added is routed, one removed is gone', async () => {
    const routing = service();
    await routing.load();
    await main.exec(
      "INSERT INTO dr_partitions (id, partition_name, db_url, drd_table, drr_table) VALUES (3, 'tenant-c', '', 'a_gateways', 'a_rules')",
    );
    await main.exec("DELETE FROM dr_partitions WHERE partition_name = 'tenant-b'");
    expect((await routing.reload()).ok).toBe(true);
    expect([...routing.current.tables.keys()]).toEqual(['tenant-a', 'tenant-c']);
    expect(targets(routing, { partition: 'tenant-c' })).toEqual([
      'sip:4412345@127.0.0.2:5060',
      'sip:4412345@127.0.0.9:5060',
    ]);
    expect(routing.route({ number: '4412345', group: 0, partition: 'tenant-b' }).notes).toEqual([
      'no partition tenant-b in dr_partitions',
    ]);
  });

  it('refuses the load on a partition it cannot read, naming the row; a reload keeps the old snapshot', async () => {
    const routing = service();
    await routing.load();
    await main.exec(
      "UPDATE dr_partitions SET db_url = 'postgres://opensips@localhost/opensips' WHERE partition_name = 'tenant-b'",
    );
    const report = await routing.reload();
    expect(report.ok).toBe(false);
    expect(report.errors.map(formatRowProblem)).toEqual([
      expect.stringContaining(
        'dr_partitions row id=2 (partition_name "tenant-b"): column db_url = "postgres://opensips@localhost/opensips": a postgres database cannot be read',
      ),
    ]);
    expect(routing.current.generation).toBe(1);
    expect(targets(routing, { partition: 'tenant-b' })).toEqual([
      'sip:4412345@127.0.0.3:5060',
      'sip:4412345@127.0.0.9:5060',
    ]);
  });

  it("a partition's missing table is DROUTER_ERR_SCHEMA naming it, as is a missing dr_partitions", async () => {
    await main.exec("UPDATE dr_partitions SET drr_table = 'nowhere' WHERE partition_name = 'tenant-a'");
    const error = await service()
      .load()
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as Error).message).toContain('nowhere');
    const missing = new PartitionStores({ table: 'no_partitions', url: main.url });
    const missingError = await new RoutingService(
      missing,
      routingServiceOptions(
        configSchema.parse({ routing: { partitions: { enabled: true } } }).routing,
        'UTC',
        configSchema.parse({}).sip,
      ),
      { now: () => AT },
    )
      .load()
      .catch((thrown: unknown) => thrown);
    await missing.close();
    expect(missingError).toBeInstanceOf(SchemaError);
    expect((missingError as Error).message).toContain('no_partitions');
  });

  it('picks the partition by Request-URI host, else routing.partitions.default; none: no route, and why', async () => {
    const routing = service();
    await routing.load();
    expect(targets(routing, { host: 'TENANT-B' })).toEqual([
      'sip:4412345@127.0.0.3:5060',
      'sip:4412345@127.0.0.9:5060',
    ]);
    expect(targets(routing, { host: '127.0.0.1' })).toEqual([
      'sip:4412345@127.0.0.2:5060',
      'sip:4412345@127.0.0.9:5060',
    ]);
    const without = service({ default: 'none' });
    await without.load();
    const decision = without.route({ number: '4412345', group: 0 });
    expect(decision).toMatchObject({
      outcome: 'no-rule',
      targets: [],
      notes: ['no partition named by the request and routing.partitions.default is none'],
    });
  });
});

/** Addresses of this file's proxy, gateways and phone. */
const PROXY = '127.0.0.181';
const GATEWAY_A = '127.0.0.182';
const GATEWAY_B = '127.0.0.183';
const PHONE = '127.0.0.184';

describe(`calls routed by partition (${testEngine} engine, real UDP on loopback)`, () => {
  const sqlite = databaseKinds()[0] as DatabaseKind;
  let main: ScratchDatabase;
  let other: ScratchDatabase;
  let server: TestServer;
  let phone: UdpPeer;
  let gatewayA: ScriptedGateway;
  let gatewayB: ScriptedGateway;

  beforeAll(async () => {
    ({ main, other } = await plantPartitions(sqlite, `${GATEWAY_A}:5060`, `${GATEWAY_B}:5060`));
    server = await startTestServer(PROXY, {
      routing: { defaultGroup: 0, partitions: { enabled: true, url: main.url, default: 'tenant-a' } },
      proxy: { timeoutMs: 800, inviteTimeoutMs: 1500 },
    });
    phone = await UdpPeer.bind(PHONE);
    gatewayA = await ScriptedGateway.start(GATEWAY_A);
    gatewayB = await ScriptedGateway.start(GATEWAY_B);
  }, 30_000);
  afterAll(async () => {
    phone?.close();
    gatewayA?.close();
    gatewayB?.close();
    await server?.close();
    await main?.drop();
    await other?.drop();
  });

  const POST_JSON = { method: 'POST', headers: { 'content-type': 'application/json' } };
  const invitesAt = (gateway: ScriptedGateway) => gateway.requests('INVITE').length;

  it('a call whose Request-URI names no partition goes to routing.partitions.default, tenant-a', async () => {
    const call = inviteFrom(phone, `${server.sip.address}:${server.sip.port}`, '4412345');
    phone.send(call.invite, server.sip);
    expect(await finalResponse(phone, call)).toMatch(/^SIP\/2\.0 200 /);
    expect([invitesAt(gatewayA), invitesAt(gatewayB)]).toEqual([1, 0]);
  });

  itUnless(
    testEngine === 'drachtio'
      ? 'native engine only: drachtio-server proxies only a Request-URI naming its own contact (see proxy-calls.test.ts), no host to pick a partition by'
      : '',
  )("a call to sip:4412345@tenant-b goes to tenant-b's gw1", async () => {
    const call = inviteFrom(phone, 'tenant-b', '4412345');
    phone.send(call.invite, server.sip);
    expect(await finalResponse(phone, call)).toMatch(/^SIP\/2\.0 200 /);
    expect(invitesAt(gatewayB)).toBe(1);
  });

  it('the admin API routes in a partition, lists the gateways by partition:gwid and disables one of them alone', async () => {
    const base = server.server.adminUrl;
    const route = (await (await fetch(`${base}/route?number=4412345&group=0&partition=tenant-b`)).json()) as {
      partition: string;
      destinations: { gwid: string; uri: string }[];
    };
    expect(route.partition).toBe('tenant-b');
    expect(route.destinations.map((destination) => destination.gwid)).toEqual(['tenant-b:gw1', 'tenant-b:gw2']);
    const health = (await (await fetch(`${base}/health`)).json()) as {
      routing: { partitions: string[]; skipped: number };
    };
    expect(health.routing).toMatchObject({ partitions: ['tenant-a', 'tenant-b'], skipped: 1 });
    expect((await fetch(`${base}/gateways/tenant-b:gw1/disable`, POST_JSON)).status).toBe(200);
    const gateways = (await (await fetch(`${base}/gateways`)).json()) as { gwid: string; state: string }[];
    expect(gateways.filter((gateway) => gateway.state !== 'active').map((gateway) => gateway.gwid)).toEqual([
      'tenant-b:gw1',
    ]);
    const after = (await (await fetch(`${base}/route?number=4412345&group=0&partition=tenant-b`)).json()) as {
      destinations: { gwid: string; usable: boolean }[];
    };
    expect(
      after.destinations.filter((destination) => destination.usable).map((destination) => destination.gwid),
    ).toEqual(['tenant-b:gw2']);
    expect((await fetch(`${base}/gateways/tenant-b:gw1/enable`, POST_JSON)).status).toBe(200);
  });

  it('drouter route --partition answers from the database when no server runs; drouter check names the partitions and their skipped rows', async () => {
    const env = {
      DROUTER_STORE__URL: main.url,
      DROUTER_ADMIN__PORT: String(await freePort()),
      DROUTER_ROUTING__PARTITIONS__ENABLED: 'true',
      DROUTER_ROUTING__PARTITIONS__DEFAULT: 'tenant-a',
    };
    const finished = await runDrouter(['route', '4412345', '--group', '0', '--partition', 'tenant-b'], env).finished;
    expect(finished.code).toBe(0);
    expect(finished.stdout).toContain('partition tenant-b (partition tenant-b given)');
    expect(finished.stdout).toMatch(
      /tenant-b:gw1 +rule 1 +127\.0\.0\.183:5060 +active +sip:4412345@127\.0\.0\.183:5060/,
    );
    const unknown = await runDrouter(['route', '4412345', '--group', '0', '--partition', 'tenant-x'], env).finished;
    expect(unknown.stdout).toContain('note     no partition tenant-x in dr_partitions');
    const check = await runDrouter(['check'], env).finished;
    expect(check.stdout).toContain('partitions tenant-a, tenant-b');
    expect(check.stdout).toMatch(/skipped {2}tenant-b:dr_rules row ruleid=2: column timerec = "garbage"/);
  });
});
