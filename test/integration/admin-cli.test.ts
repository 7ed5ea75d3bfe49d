import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Finished, freePort, runDrouter } from '../support/drouter-process.js';
import { startTestServer, type TestServer } from '../support/drouter-server.js';
import { waitFor } from '../support/wait-for.js';

interface GatewayJson {
  gwid: string;
  address: string;
  state: string;
  reason: string | null;
  lastRttMs: number | null;
}

interface RouteJson {
  at: string;
  outcome: string;
  ruleId: number | null;
  rules: { ruleId: number; verdict: string }[];
  destinations: { gwid: string; state: string; usable: boolean; skipped: string | null }[];
}

// Nothing may probe the example gateways (127.0.0.2/3, where nothing answers) under these tests.
const NO_PROBING = { probe: { enabled: false } };

function sql<T>(file: string, use: (db: Database.Database) => T): T {
  const db = new Database(file);
  try {
    return use(db);
  } finally {
    db.close();
  }
}

function gatewayStateColumn(file: string, gwid: string): number {
  return sql(
    file,
    (db) => (db.prepare('SELECT state FROM dr_gateways WHERE gwid = ?').get(gwid) as { state: number }).state,
  );
}

/** persistState writes dr_gateways.state in batches: waits until the column says `state`. */
async function waitForStateColumn(file: string, gwid: string, state: number): Promise<void> {
  await waitFor(
    `dr_gateways.state of gateway ${gwid} to become ${state}`,
    5000,
    () => (gatewayStateColumn(file, gwid) === state ? true : undefined),
    { pollMs: 50, rethrow: true },
  );
}

/** The CLI as a child process against `server`'s admin API; a fallback to the database would read its SQLite file. */
function cliFor(server: TestServer) {
  return (...args: string[]): Promise<Finished> =>
    runDrouter([...args, '--url', server.server.adminUrl], { DROUTER_STORE__URL: `sqlite:${server.storeFile}` })
      .finished;
}

function ok(finished: Finished): string {
  expect(finished.stderr).toBe('');
  expect(finished.code).toBe(0);
  return finished.stdout;
}

describe('drouter CLI over the admin API of a running server', () => {
  let server: TestServer;
  let drouter: (...args: string[]) => Promise<Finished>;

  beforeAll(async () => {
    server = await startTestServer('127.0.0.80', NO_PROBING);
    drouter = cliFor(server);
  });
  afterAll(async () => {
    await server.close();
  });

  it('gateways: a table for people and the JSON of GET /gateways', async () => {
    const [text, json] = await Promise.all([drouter('gateways'), drouter('gateways', '--json')]);
    const lines = ok(text).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\s+gwid\s+address\s+state\s+since\s+rtt\s+reason$/);
    expect(lines[1]).toMatch(
      /^\s+1\s+127\.0\.0\.2:5060\s+active\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+-\s+dr_gateways\.state is 0$/,
    );
    expect(lines[2]).toMatch(/^\s+2\s+127\.0\.0\.3:5060\s+active\s/);
    expect(lines).toHaveLength(3);
    const gateways = JSON.parse(ok(json)) as GatewayJson[];
    expect(gateways.map(({ gwid, address, state, lastRttMs }) => ({ gwid, address, state, lastRttMs }))).toEqual([
      { gwid: '1', address: '127.0.0.2:5060', state: 'active', lastRttMs: null },
      { gwid: '2', address: '127.0.0.3:5060', state: 'active', lastRttMs: null },
    ]);
  });

  it('gateway disable takes gateway 1 out of live routing, events record it, enable brings it back', async () => {
    const disabled = ok(await drouter('gateway', 'disable', '1'));
    expect(disabled).toMatch(
      /^\s+gwid\s+address\s+state\s+since\s+rtt\s+reason\n\s+1\s+127\.0\.0\.2:5060\s+admin-disabled\s+\S+Z\s+-\s+\S/,
    );
    const [gateways, routeJson, routeText] = await Promise.all([
      drouter('gateways'),
      drouter('route', '01144201234567', '--group', '0', '--json'),
      drouter('route', '01144201234567', '--group', '0'),
    ]);
    expect(ok(gateways)).toMatch(/\n\s+1\s+127\.0\.0\.2:5060\s+admin-disabled\s/);
    const route = JSON.parse(ok(routeJson)) as RouteJson;
    expect(route).toMatchObject({
      source: { answeredBy: 'server', url: server.server.adminUrl },
      outcome: 'routed',
      ruleId: 1,
    });
    expect(route.destinations.map(({ gwid, state, usable }) => ({ gwid, state, usable }))).toEqual([
      { gwid: '1', state: 'admin-disabled', usable: false },
      { gwid: '2', state: 'active', usable: true },
    ]);
    const text = ok(routeText);
    expect(text.split('\n')[0]).toBe(`source   the server at ${server.server.adminUrl} (live gateway states)`);
    expect(text).toContain('outcome  routed');
    expect(text).toMatch(/\n\s+1\s+1\s+#1\s+127\.0\.0\.2:5060\s+admin-disabled\s+skipped: /);
    expect(text).toMatch(/\n\s+2\s+2\s+#1\s+127\.0\.0\.3:5060\s+active\s+sip:01144201234567@127\.0\.0\.3:5060/);

    expect(ok(await drouter('gateway', 'enable', '1'))).toMatch(/\n\s+1\s+127\.0\.0\.2:5060\s+active\s/);
    const [back, history] = await Promise.all([
      drouter('route', '01144201234567', '--group', '0', '--json'),
      drouter('events', '--limit', '2'),
    ]);
    expect((JSON.parse(ok(back)) as RouteJson).destinations.map(({ gwid, usable }) => ({ gwid, usable }))).toEqual([
      { gwid: '1', usable: true },
      { gwid: '2', usable: true },
    ]);

    const events = ok(history).trimEnd().split('\n');
    expect(events[0]).toMatch(/^\s+time\s+gwid\s+change\s+reason$/);
    expect(events[1]).toMatch(/^\s+\S+Z\s+1\s+admin-disabled → active\s+\S/);
    expect(events[2]).toMatch(/^\s+\S+Z\s+1\s+active → admin-disabled\s+\S/);
    expect(events).toHaveLength(3);
  });

  it('an unknown gateway or carrier is exit 1 with DROUTER_ERR_NOT_FOUND; a bad request to the API is exit 2', async () => {
    const [gateway, carrier, limit] = await Promise.all([
      drouter('gateway', 'disable', '99'),
      drouter('carrier', 'enable', 'nope'),
      drouter('events', '--limit', '0'),
    ]);
    expect(gateway.code).toBe(1);
    expect(gateway.stderr).toBe(
      `drouter: DROUTER_ERR_NOT_FOUND: no gateway with gwid "99" in the routing data (POST ${server.server.adminUrl}/gateways/99/disable answered 404)\n`,
    );
    expect(carrier.code).toBe(1);
    expect(carrier.stderr).toContain(
      'drouter: DROUTER_ERR_NOT_FOUND: no carrier with carrierid "nope" in the routing data',
    );
    expect(limit.code).toBe(2);
    expect(limit.stderr).toContain(
      'drouter: DROUTER_ERR_USAGE: limit "0": expected a whole number from 1 to 200 (GET ',
    );
  });

  it('route passes --strict to the server: no rule is the whole of 01144', async () => {
    const [plainRun, strictRun] = await Promise.all([
      drouter('route', '01144', '--group', '0', '--json'),
      drouter('route', '01144', '--group', '0', '--strict', '--json'),
    ]);
    const plain = JSON.parse(ok(plainRun)) as RouteJson;
    const strict = JSON.parse(ok(strictRun)) as RouteJson;
    expect(plain).toMatchObject({ outcome: 'routed', ruleId: 1 });
    expect(strict).toMatchObject({ outcome: 'no-rule', ruleId: null });
    expect(strict.rules).toContainEqual(expect.objectContaining({ ruleId: 1, verdict: 'too-short' }));
  });

  it('carriers: a carrier added to dr_carriers appears after reload, and can be disabled and enabled', async () => {
    sql(server.storeFile, (db) =>
      db.exec("INSERT INTO dr_carriers (carrierid, gwlist, sort_alg) VALUES ('cr1', '1,2', 'N')"),
    );
    const reloaded = ok(await drouter('reload'));
    expect(reloaded).toMatch(
      /^reloaded: 0 errors, 0 rows skipped, \d+ warnings?; generation 2 in use \(2 gateways, 1 carrier, 3 rules, 4 callers\)$/m,
    );

    expect(ok(await drouter('carriers'))).toMatch(
      /^\s+carrierid\s+state\s+sort\s+first only\s+gateways\n\s+cr1\s+enabled\s+N\s+no\s+1,2\n$/,
    );
    expect(ok(await drouter('carrier', 'disable', 'cr1'))).toMatch(/\n\s+cr1\s+disabled\s+N\s+no\s+1,2\n$/);
    expect(
      sql(server.storeFile, (db) => db.prepare("SELECT state FROM dr_carriers WHERE carrierid = 'cr1'").get()),
    ).toEqual({ state: 1 });
    const enabled = JSON.parse(ok(await drouter('carrier', 'enable', 'cr1', '--json'))) as unknown;
    expect(enabled).toEqual({ carrierid: 'cr1', enabled: true, gateways: ['1', '2'], sortAlg: 'N', firstOnly: false });
  });

  it('reload refused: exit 1 with the bad row listed, the old generation stays', async () => {
    // A value that does not fit its column refuses the load (OpenSIPS refuses its whole load on one too).
    sql(server.storeFile, (db) => db.exec("UPDATE dr_rules SET priority = 'x' WHERE ruleid = 2"));
    try {
      const refused = await drouter('reload');
      expect(refused.code).toBe(1);
      expect(refused.stdout).toMatch(/^error {4}dr_rules row ruleid=2: column priority = "x": is not an integer/m);
      expect(refused.stdout).toMatch(
        /^reload refused: 1 error, 0 rows skipped, \d+ warnings?; generation 2 stays in use$/m,
      );
    } finally {
      sql(server.storeFile, (db) => db.exec('UPDATE dr_rules SET priority = 0 WHERE ruleid = 2'));
    }
    const json = JSON.parse(ok(await drouter('reload', '--json'))) as { ok: boolean; generation: number };
    expect(json).toMatchObject({ ok: true, generation: 3 });
  });

  it('reload keeps the live state of a gateway; --no-inherit-state takes dr_gateways.state again', async () => {
    ok(await drouter('gateway', 'disable', '1'));
    await waitForStateColumn(server.storeFile, '1', 1);
    sql(server.storeFile, (db) => db.exec("UPDATE dr_gateways SET state = 0 WHERE gwid = '1'"));

    ok(await drouter('reload'));
    expect(ok(await drouter('gateways'))).toMatch(/\n\s+1\s+127\.0\.0\.2:5060\s+admin-disabled\s/);
    ok(await drouter('reload', '--no-inherit-state'));
    const gateways = JSON.parse(ok(await drouter('gateways', '--json'))) as GatewayJson[];
    expect(gateways[0]).toMatchObject({ gwid: '1', state: 'active', reason: 'dr_gateways.state is 0' });
  });

  it('peers: the sippeers rows like sip show peers; peer NAME with its secret masked', async () => {
    const [peers, peer, peerJson, missing] = await Promise.all([
      drouter('peers'),
      drouter('peer', '1001'),
      drouter('peer', '1001', '--json'),
      drouter('peer', 'nobody'),
    ]);
    const lines = ok(peers).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\s+Name\s+Host\s+Dyn\s+Port\s+Status\s+Realtime$/);
    expect(lines.slice(1, 5)).toEqual(
      ['1001', '1002', '1003', '1004'].map((name): unknown =>
        expect.stringMatching(new RegExp(`^\\s+${name}\\s+\\(Unspecified\\)\\s+D\\s+0\\s+unregistered\\s+yes$`)),
      ),
    );
    expect(lines[5]).toBe('4 sip peers [registered: 0, unregistered: 4, unmonitored: 0]');

    const details = ok(peer);
    expect(details).toMatch(/^\s+status\s+unregistered$/m);
    expect(details).toMatch(/^\s+name\s+1001$/m);
    expect(details).toMatch(/^\s+secret\s+\*\*\*$/m);
    expect(details).toMatch(/^\s+host\s+dynamic$/m);
    expect(details).not.toContain('secret1001');
    expect(details).toContain('\nbindings: none');
    expect(JSON.parse(ok(peerJson))).toMatchObject({
      name: '1001',
      secret: '***',
      md5secret: null,
      status: 'unregistered',
      bindings: [],
    });

    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('drouter: DROUTER_ERR_NOT_FOUND: no peer named "nobody" in sippeers');
  });

  it('probing shows the switch and turns it on and off', async () => {
    expect(ok(await drouter('probing'))).toBe('probing off\n');
    expect(ok(await drouter('probing', 'on'))).toBe('probing on\n');
    expect(JSON.parse(ok(await drouter('probing', '--json')))).toEqual({ probing: true });
    expect(ok(await drouter('probing', 'off'))).toBe('probing off\n');
  });

  it('a URL where no server runs is exit 3 naming it', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const finished = await runDrouter(['gateways', '--url', url], {}).finished;
    expect(finished.code).toBe(3);
    expect(finished.stderr).toBe(
      `drouter: DROUTER_ERR_ADMIN_UNREACHABLE: no admin API at ${url}: connection refused (the server does not run there, or --url is wrong)\n`,
    );
  });
});

describe('drouter CLI against a server with admin.token', () => {
  let server: TestServer;
  let adminPort: number;

  beforeAll(async () => {
    adminPort = await freePort();
    server = await startTestServer('127.0.0.81', { ...NO_PROBING, admin: { port: adminPort, token: 'test-token' } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('without the token: exit 2 with DROUTER_ERR_UNAUTHORIZED, and route does not fall back to the database', async () => {
    const drouter = cliFor(server);
    const [gateways, wrong, route] = await Promise.all([
      drouter('gateways'),
      drouter('gateways', '--token', 'guess'),
      drouter('route', '011'),
    ]);
    for (const finished of [gateways, wrong, route]) {
      expect(finished.code).toBe(2);
      expect(finished.stderr).toMatch(
        /^drouter: DROUTER_ERR_UNAUTHORIZED: a valid bearer token is required .*answered 401; give --token or set admin.token \(DROUTER_ADMIN__TOKEN\)\)\n$/,
      );
    }
  });

  it('with --token, or admin.token and admin.port from the environment, it works', async () => {
    const drouter = cliFor(server);
    const [flag, configured] = await Promise.all([
      drouter('gateways', '--json', '--token', 'test-token'),
      runDrouter(['gateways', '--json'], { DROUTER_ADMIN__PORT: String(adminPort), DROUTER_ADMIN__TOKEN: 'test-token' })
        .finished,
    ]);
    expect((JSON.parse(ok(flag)) as GatewayJson[]).map((gw) => gw.gwid)).toEqual(['1', '2']);
    expect(JSON.parse(ok(configured))).toEqual(JSON.parse(flag.stdout));
  });
});

describe('drouter route when the server is gone', () => {
  it('says so on stderr and answers from the database, in the same JSON as the server', async () => {
    const server = await startTestServer('127.0.0.82', NO_PROBING);
    const drouter = cliFor(server);
    const args = ['route', '01144201234567', '--group', '0', '--at', '2026-11-26T09:30:00Z', '--json'];
    let live: RouteJson;
    try {
      ok(await drouter('gateway', 'disable', '1'));
      // The database answer knows gateway 1 is down only once persistState wrote it.
      await waitForStateColumn(server.storeFile, '1', 1);
      live = JSON.parse(ok(await drouter(...args))) as RouteJson;
    } finally {
      await server.server.stop();
    }
    try {
      const offline = await drouter(...args);
      expect(offline.code).toBe(0);
      expect(offline.stderr).toBe(
        `drouter: no server at ${server.server.adminUrl}; routing from the database without live gateway state\n`,
      );
      // The same answer, but for who gave it.
      const { source: offlineSource, ...offlineAnswer } = JSON.parse(offline.stdout) as RouteJson & { source: unknown };
      const { source: liveSource, ...liveAnswer } = live as RouteJson & { source: unknown };
      expect(offlineAnswer).toEqual(liveAnswer);
      expect([liveSource, offlineSource]).toEqual([
        { answeredBy: 'server', url: server.server.adminUrl },
        { answeredBy: 'store', url: `sqlite:${server.storeFile}` },
      ]);
      expect(live).toMatchObject({ at: '2026-11-26T09:30:00.000Z', outcome: 'routed', ruleId: 1 });
      expect(live.destinations.map(({ gwid, usable }) => ({ gwid, usable }))).toEqual([
        { gwid: '1', usable: false },
        { gwid: '2', usable: true },
      ]);
    } finally {
      rmSync(dirname(server.storeFile), { recursive: true, force: true });
    }
  });
});
