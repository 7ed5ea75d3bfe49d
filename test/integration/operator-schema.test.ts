import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { type RunningServer, startServer } from '../../src/main.js';
import { createRoutingService } from '../../src/wiring/routing-wiring.js';
import { prepareStore } from '../../src/store/knex/open-store.js';
import { type DatabaseKind, databaseKinds, type ScratchDatabase } from '../support/databases.js';
import { freePort, runDrouter } from '../support/drouter-process.js';
import { captureLog } from '../support/log-capture.js';
import { sipRequest, UdpPeer } from '../support/udp-peer.js';
import { applyKamailioDdl, applyOpensipsDdl, kamailioDdlMissing, opensipsDdlMissing } from '../support/upstream-ddl.js';
import { describeUnless } from '../support/skip-reason.js';

/**
 * An operator's database read as it is (docs/schema.md "Schema"): Kamailio 5.6's
 * and OpenSIPS 3.5.9's own drouting DDL applied untouched, on SQLite and on
 * MariaDB; nothing created or altered at start; a table we cannot read
 * refused with DROUTER_ERR_SCHEMA at start, at `drouter check` and at reload.
 * The child-process cases run the built CLI (`npm run build` first).
 */

const kamailioMissing = kamailioDdlMissing();
const opensipsMissing = opensipsDdlMissing();

/** Every column of every table, in order: what "nothing created or altered" is checked against. */
async function schemaOf(kind: DatabaseKind, db: ScratchDatabase): Promise<string[]> {
  const rows =
    kind.name === 'mysql'
      ? await db.exec(
          'SELECT TABLE_NAME AS t, COLUMN_NAME AS c, COLUMN_TYPE AS ty FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION',
        )
      : await db.exec(
          "SELECT m.name AS t, p.name AS c, p.type AS ty FROM sqlite_master AS m, pragma_table_info(m.name) AS p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid",
        );
  return rows.map((row) => `${String(row.t)}.${String(row.c)} ${String(row.ty)}`);
}

function tablesOf(schema: readonly string[]): string[] {
  return [...new Set(schema.map((column) => column.split('.')[0] ?? ''))];
}

/** The server in this process on the scratch database, SIP on 127.0.0.211; `routing` as the operator sets it. */
async function startOn(
  url: string,
  log = captureLog(),
  routing: Record<string, unknown> = {},
): Promise<{ server: RunningServer; sip: { address: string; port: number }; log: typeof log }> {
  const config = configSchema.parse({
    sip: { address: '127.0.0.211', port: await freePort(), engine: 'native' },
    admin: { port: await freePort() },
    // seedExample stays on: an operator's database must get no example rows either.
    store: { url, seedExample: true },
    probe: { enabled: false },
    overload: { enabled: false },
    routing,
  });
  const server = await startServer(config, log.log);
  return { server, sip: { address: config.sip.address, port: config.sip.port }, log };
}

async function usableGateways(server: RunningServer, number: string): Promise<string[]> {
  const response = await fetch(`${server.adminUrl}/route?number=${number}&group=0`);
  const answer = (await response.json()) as { destinations: { gwid: string; usable: boolean }[] };
  return answer.destinations.filter((d) => d.usable).map((d) => d.gwid);
}

const noStackTrace = /\n\s+at /;

/** The start of the warning that the layout and routing.dialect / timerecDialect disagree (src/routing/core/layout-dialect.ts). */
const LAYOUT_MISMATCH = 'row (every row): column ';
const KAMAILIO_GWLISTS =
  'dr_rules row (every row): column gwlist = "Kamailio 5.x, OpenSIPS 1.5–1.7": the drouting tables are this layout (an integer gwid key), whose gwlists routing.dialect opensips-3 reads as OpenSIPS 3.x does (a ; makes the rule skipped, where Kamailio and OpenSIPS 1.x read it as a separator); set routing.dialect: kamailio (or opensips-1)';
const KAMAILIO_TIMERECS =
  'dr_rules row (every row): column timerec = "Kamailio 5.x, OpenSIPS 1.5–1.7": the drouting tables are this layout and its releases write legacy timerecs, which routing.timerecDialect opensips-3.2 (OpenSIPS 3.2+) reads otherwise (its second field is dtend, not the duration); set routing.timerecDialect: legacy';

async function healthOf(server: RunningServer): Promise<{ status: number; warnings: string[]; skippedRows: string[] }> {
  const response = await fetch(`${server.adminUrl}/health`);
  const body = (await response.json()) as { routing: { warnings: string[]; skippedRows: string[] } };
  return { status: response.status, ...body.routing };
}

describe.each(databaseKinds())('an operator database on $name', (kind) => {
  let db: ScratchDatabase;

  beforeEach(async () => {
    db = await kind.create('operator');
  });

  afterEach(async () => {
    await db?.drop();
  });

  describeUnless(kamailioMissing)("Kamailio 5.6's drouting tables, as its DDL makes them", () => {
    beforeEach(async () => {
      await applyKamailioDdl(kind, db);
      await db.exec(
        "INSERT INTO dr_gateways (gwid, type, address, strip, pri_prefix, attrs, description) VALUES (1, 0, '127.0.0.213:5060', 0, '', 'kamailio=1', 'one')",
      );
      await db.exec(
        "INSERT INTO dr_gateways (gwid, type, address, strip, pri_prefix, attrs, description) VALUES (2, 0, '127.0.0.214:5060', 2, '9', NULL, 'two')",
      );
      await db.exec("INSERT INTO dr_gw_lists (id, gwlist, description) VALUES (1, '1,2', 'both')");
      await db.exec(
        "INSERT INTO dr_rules (ruleid, groupid, prefix, timerec, priority, routeid, gwlist, description) VALUES (1, '0', '011', '', 0, '', '#1', 'international')",
      );
      await db.exec(
        "INSERT INTO dr_rules (ruleid, groupid, prefix, timerec, priority, routeid, gwlist, description) VALUES (2, '0', '44', '', 0, '', '2,1', 'uk')",
      );
      await db.exec(
        "INSERT INTO dr_groups (id, username, domain, groupid, description) VALUES (1, '1001', 'example.org', 0, '')",
      );
    });

    it('are read into our rows with OpenSIPS defaults, route as their gwlists say, and are left as they are', async () => {
      const before = await schemaOf(kind, db);
      const { store, schemaCreated, seeded } = await prepareStore(db.url, { seedExample: true });
      try {
        expect(schemaCreated).toBe(false);
        expect(seeded).toBeUndefined();
        expect(store.layout().name).toBe('Kamailio 5.x, OpenSIPS 1.5–1.7');
        const rows = await store.loadRoutingRows();
        expect(rows.problems).toEqual([]);
        expect(rows.gateways).toEqual([
          {
            id: 1,
            gwid: '1',
            type: 0,
            address: '127.0.0.213:5060',
            strip: 0,
            pri_prefix: '',
            attrs: 'kamailio=1',
            probe_mode: 0,
            state: 0,
            socket: null,
            description: 'one',
          },
          {
            id: 2,
            gwid: '2',
            type: 0,
            address: '127.0.0.214:5060',
            strip: 2,
            pri_prefix: '9',
            attrs: null,
            probe_mode: 0,
            state: 0,
            socket: null,
            description: 'two',
          },
        ]);
        expect(
          rows.rules.map((rule) => [rule.ruleid, rule.gwlist, rule.sort_alg, rule.sort_profile, rule.attrs]),
        ).toEqual([
          [1, '#1', 'N', null, null],
          [2, '2,1', 'N', null, null],
        ]);
        expect(rows.gwLists).toEqual([{ id: 1, gwlist: '1,2', description: 'both' }]);
        expect(rows.groups).toEqual([{ id: 1, username: '1001', domain: 'example.org', groupid: 0, description: '' }]);
        expect(rows.carriers).toEqual([]);

        const routing = createRoutingService(
          configSchema.parse({ routing: { timerecDialect: 'legacy', dialect: 'kamailio' } }),
          store,
        );
        await routing.load();
        const gateways = (number: string) =>
          routing.route({ number, group: 0 }).targets.map((target) => target.gateway.gwid);
        expect(gateways('01144201234567')).toEqual(['1', '2']);
        expect(gateways('442071234567')).toEqual(['2', '1']);
        expect(routing.route({ number: '442071234567', group: 0 }).targets[0]?.uri).toBe(
          'sip:92071234567@127.0.0.214:5060',
        );
        expect(routing.current.destinations.gateways.get('1')?.attrs).toBe('kamailio=1');

        // What Kamailio's tables have no place for is not written, and no error.
        await store.writeGatewayStates(new Map([['1', 1]]));
        expect(await store.sharedValue('secret', 'candidate')).toBeUndefined();
        expect(await store.findPeerByName('1001')).toBeUndefined();
        expect(await store.writeRegistration('1001', { port: 5060 })).toBe(false);
        expect(await store.countPeers()).toBe(0);
        expect(await store.listPeers()).toEqual([]);
        expect(await store.loadAddresses()).toEqual({ rows: [], problems: [] });
      } finally {
        await store.close();
      }
      expect(await schemaOf(kind, db)).toEqual(before);
    });

    it('pass drouter check, which names the layout and the tables it lacks', async () => {
      const checked = await runDrouter(['check'], {
        DROUTER_STORE__URL: db.url,
        DROUTER_ROUTING__TIMEREC_DIALECT: 'legacy',
        DROUTER_ROUTING__DIALECT: 'kamailio',
      }).finished;
      expect(checked.stderr).toBe('');
      expect(checked.code).toBe(0);
      expect(checked.stdout).toContain('layout   Kamailio 5.x, OpenSIPS 1.5–1.7');
      expect(checked.stdout).toContain('note     dr_gateways: no probe_mode, state, socket, read as 0, 0, null');
      expect(checked.stdout).toContain('note     dr_carriers: absent, read as empty');
      expect(checked.stdout).toMatch(/routing data builds: 0 errors.*\(2 gateways, 0 carriers, 2 rules\)/);
      // Set as Kamailio's tables want, nothing is said against the layout.
      expect(checked.stdout).not.toContain(LAYOUT_MISMATCH);
    });

    it('read with the default dialects (OpenSIPS 3.x gwlists, 3.2 timerecs): the node starts and routes, and the start, a reload, /health and drouter check name the layout, the settings and what to set', async () => {
      // Kamailio reads ; as a separator; OpenSIPS 3.x grammar skips the rule.
      await db.exec(
        "INSERT INTO dr_rules (ruleid, groupid, prefix, timerec, priority, routeid, gwlist, description) VALUES (3, '0', '33', '', 0, '', '1;2', 'fr')",
      );
      const { server, log } = await startOn(db.url);
      try {
        const warned = log.messages().filter((message) => message.includes(LAYOUT_MISMATCH));
        expect(warned).toEqual([`routing data: ${KAMAILIO_GWLISTS}`, `routing data: ${KAMAILIO_TIMERECS}`]);
        // Integer ids in , lists read the same in both grammars: these rules route.
        expect(await usableGateways(server, '01144201234567')).toEqual(['1', '2']);
        expect(await usableGateways(server, '442071234567')).toEqual(['2', '1']);
        const health = await healthOf(server);
        expect(health.status).toBe(200);
        expect(health.warnings).toEqual(expect.arrayContaining([KAMAILIO_GWLISTS, KAMAILIO_TIMERECS]));
        expect(health.skippedRows).toEqual([
          expect.stringMatching(/^dr_rules row ruleid=3.*column gwlist = "1;2": .*row skipped$/),
        ]);

        const report = await server.reload();
        expect(report.ok).toBe(true);
        expect(report.warnings.map((warning) => warning.column)).toEqual(expect.arrayContaining(['gwlist', 'timerec']));
        expect(log.messages().filter((message) => message.includes(LAYOUT_MISMATCH))).toHaveLength(4);
      } finally {
        await server.stop();
      }

      const checked = await runDrouter(['check'], { DROUTER_STORE__URL: db.url }).finished;
      expect(checked.code, checked.stderr).toBe(0);
      expect(checked.stdout).toContain(`warning  ${KAMAILIO_GWLISTS}\n`);
      expect(checked.stdout).toContain(`warning  ${KAMAILIO_TIMERECS}\n`);
      expect(checked.stdout).toContain('layout   Kamailio 5.x, OpenSIPS 1.5–1.7');
    });
  });

  describeUnless(opensipsMissing)(
    "OpenSIPS 3.5.9's own drouting tables, without dr_gw_lists, sippeers or address",
    () => {
      beforeEach(async () => {
        await applyOpensipsDdl(kind, db);
        await db.exec(
          "INSERT INTO dr_gateways (gwid, address) VALUES ('gwa', '127.0.0.213:5060'), ('gwb', '127.0.0.214:5060')",
        );
        await db.exec("INSERT INTO dr_carriers (carrierid, gwlist) VALUES ('both', 'gwb,gwa')");
        await db.exec(
          "INSERT INTO dr_rules (groupid, prefix, gwlist) VALUES ('0', '011', 'gwa,gwb'), ('0', '44', '#both')",
        );
      });

      it('start and route; REGISTER gets 404; a reload that cannot read the tables keeps the old snapshot; nothing is created', async () => {
        const before = await schemaOf(kind, db);
        const { server, sip, log } = await startOn(db.url);
        const phone = await UdpPeer.bind('127.0.0.212');
        try {
          expect(await usableGateways(server, '01144201234567')).toEqual(['gwa', 'gwb']);
          expect(await usableGateways(server, '442071234567')).toEqual(['gwb', 'gwa']);
          expect(log.messages()).toContain(
            'the store has no sippeers table: every REGISTER is answered 404 and calls reach no registered phone; run drouter migrate to create it',
          );
          expect(log.messages().some((message) => message.startsWith('the store has no drouter_shared table'))).toBe(
            true,
          );
          expect(log.messages()).toContain(
            'store tables read as OpenSIPS 3.x: dr_gw_lists: absent, read as empty; sippeers: absent, read as empty; address: absent, read as empty',
          );
          // The default routing.dialect is these tables' own.
          expect(log.messages().filter((message) => message.includes(LAYOUT_MISMATCH))).toEqual([]);

          const { address, port } = phone.address;
          phone.send(
            sipRequest([
              `REGISTER sip:${sip.address} SIP/2.0`,
              `Via: SIP/2.0/UDP ${address}:${port};branch=z9hG4bK-op-1;rport`,
              'Max-Forwards: 70',
              `From: <sip:1001@${sip.address}>;tag=op1`,
              `To: <sip:1001@${sip.address}>`,
              'Call-ID: operator-register-1',
              'CSeq: 1 REGISTER',
              `Contact: <sip:1001@${address}:${port}>`,
              'Expires: 60',
            ]),
            sip,
          );
          expect(await phone.receive(/^SIP\/2\.0 /, 3000)).toMatch(/^SIP\/2\.0 404 /);

          await db.exec('ALTER TABLE dr_rules DROP COLUMN gwlist');
          await expect(server.reload()).rejects.toMatchObject({
            code: 'DROUTER_ERR_SCHEMA',
            message: expect.stringContaining('  dr_rules.gwlist: missing') as unknown,
          });
          expect(await usableGateways(server, '01144201234567')).toEqual(['gwa', 'gwb']);
        } finally {
          phone.close();
          await server.stop();
        }
        const after = await schemaOf(kind, db);
        expect(tablesOf(after)).toEqual(tablesOf(before));
        expect(after).toEqual(before.filter((column) => !column.startsWith('dr_rules.gwlist ')));
        const [count] = await db.exec('SELECT COUNT(*) AS n FROM dr_gateways');
        expect(Number(count?.n)).toBe(2);
      });

      it('read with routing.dialect kamailio: drouter check names the layout and the setting, and the gateways whose gwid is no integer are skipped', async () => {
        const checked = await runDrouter(['check'], {
          DROUTER_STORE__URL: db.url,
          DROUTER_ROUTING__DIALECT: 'kamailio',
        }).finished;
        expect(checked.code, checked.stderr).toBe(0);
        expect(checked.stdout).toContain(
          'warning  dr_rules row (every row): column gwlist = "OpenSIPS 3.x": the drouting tables are this layout (dr_rules has sort_alg), whose gwlists routing.dialect kamailio does not read as 3.x does (a gateway or carrier whose id is not an integer is skipped, and a ; separates where 3.x skips the rule); set routing.dialect: opensips-3\n',
        );
        expect(checked.stdout).toMatch(/skipped {2}dr_gateways row id=1 \(gwid "gwa"\)/);
        // 3.x tables hold either timerec format (3.0 and 3.1 write the legacy one): nothing said of the default.
        expect(checked.stdout).not.toContain('column timerec = ');
      });

      it('get the missing tables from drouter migrate only, which names them', async () => {
        const migrated = await runDrouter(['migrate'], { DROUTER_STORE__URL: db.url }).finished;
        expect(migrated.stderr).toBe('');
        expect(migrated.code).toBe(0);
        expect(migrated.stdout).toContain(
          'is up to date (tables created: dr_gw_lists, sippeers, drouter_shared, address)',
        );
        const tables = tablesOf(await schemaOf(kind, db));
        expect(tables).toEqual(
          expect.arrayContaining(['dr_gw_lists', 'sippeers', 'drouter_shared', 'address', 'drouter_migrations']),
        );
        const again = await runDrouter(['migrate'], { DROUTER_STORE__URL: db.url }).finished;
        expect(again.stdout).toMatch(/is up to date\n$/);
      });
    },
  );

  describe('tables that are no layout we read', () => {
    beforeEach(async () => {
      // Portable DDL: dr_gateways.address as a blob, dr_rules without gwlist.
      await db.exec(
        'CREATE TABLE dr_gateways (id INTEGER PRIMARY KEY, gwid VARCHAR(64) NOT NULL, type INTEGER NOT NULL, address BLOB NOT NULL, strip INTEGER NOT NULL, pri_prefix VARCHAR(16), attrs VARCHAR(255), description VARCHAR(128))',
      );
      await db.exec(
        'CREATE TABLE dr_rules (ruleid INTEGER PRIMARY KEY, groupid VARCHAR(255) NOT NULL, prefix VARCHAR(64) NOT NULL, timerec VARCHAR(255), priority INTEGER NOT NULL, routeid VARCHAR(255), description VARCHAR(128))',
      );
    });

    it('stop drouter start with exit 2 and DROUTER_ERR_SCHEMA naming each table and column, and so does drouter check', async () => {
      const env = {
        DROUTER_STORE__URL: db.url,
        DROUTER_ADMIN__PORT: String(await freePort()),
        DROUTER_SIP__ADDRESS: '127.0.0.211',
        DROUTER_SIP__PORT: String(await freePort()),
      };
      const before = await schemaOf(kind, db);
      for (const command of ['start', 'check']) {
        const finished = await runDrouter([command], env).finished;
        expect(finished.code, `${command}: ${finished.stderr}`).toBe(2);
        expect(finished.stderr).toContain('DROUTER_ERR_SCHEMA: the store at ');
        expect(finished.stderr).toContain('has 2 columns sip-drouter cannot read');
        expect(finished.stderr).toMatch(/ {2}dr_gateways\.address: is blob: it must be a text or integer type/i);
        expect(finished.stderr).toContain('  dr_rules.gwlist: missing');
        expect(finished.stderr).not.toMatch(noStackTrace);
      }
      expect(await schemaOf(kind, db)).toEqual(before);
    });
  });
});
