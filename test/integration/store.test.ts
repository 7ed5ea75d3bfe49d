import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RowError, StoreUnreachableError } from '../../src/errors.js';
import { openKnex } from '../../src/store/knex/connect.js';
import { prepareStore, seedStore } from '../../src/store/knex/open-store.js';
import { type DatabaseKind, databaseKinds, type ScratchDatabase } from '../support/databases.js';

/** Opens the store on `url` as a first start does (schema, example data), runs `action`, closes the store. */
async function withPreparedStore(
  url: string,
  action: (prepared: Awaited<ReturnType<typeof prepareStore>>) => Promise<void>,
): Promise<void> {
  const prepared = await prepareStore(url, { seedExample: true });
  try {
    await action(prepared);
  } finally {
    await prepared.store.close();
  }
}

/** Lets a test plant a value the column type would refuse on MySQL (SQLite takes anything). */
async function loosenColumn(kind: DatabaseKind, db: ScratchDatabase, table: string, column: string): Promise<void> {
  if (kind.name === 'mysql') await db.exec(`ALTER TABLE ${table} MODIFY ${column} VARCHAR(64)`);
}

describe.each(databaseKinds())('store on $name', (kind) => {
  let db: ScratchDatabase;

  beforeEach(async () => {
    db = await kind.create('store');
  });
  afterEach(async () => {
    await db.drop();
  });

  it('creates the schema on a first start and loads the example data', async () => {
    await withPreparedStore(db.url, async ({ store, schemaCreated, seeded }) => {
      expect(schemaCreated).toBe(true);
      expect(seeded).toEqual({ gateways: 2, gwLists: 1, rules: 3, groups: 4, peers: 4 });
      const rows = await store.loadRoutingRows();
      expect(rows.problems).toEqual([]);
      expect(rows.gateways.map((g) => [g.gwid, g.address, g.probe_mode, g.strip, g.pri_prefix])).toEqual([
        ['1', '127.0.0.2:5060', 2, 0, null],
        ['2', '127.0.0.3:5060', 2, 0, null],
      ]);
      expect(rows.rules.map((r) => [r.groupid, r.prefix, r.gwlist, r.priority, r.sort_alg])).toEqual([
        ['0', '011', '#1', 0, 'N'],
        ['0', '12025551234', '#1', 0, 'N'],
        ['0', '1', '#1', 0, 'N'],
      ]);
      expect(rows.gwLists).toEqual([{ id: 1, gwlist: '1,2', description: 'My Media Servers' }]);
      expect(rows.groups.every((g) => g.groupid === 0)).toBe(true);
      expect(rows.carriers).toEqual([]);
      expect(await store.countPeers()).toBe(4);
      const versions = await db.exec('SELECT table_name, table_version FROM version ORDER BY table_name');
      expect(versions.map((v) => [v.table_name, Number(v.table_version)])).toEqual([
        ['address', 5],
        ['dr_carriers', 3],
        ['dr_gateways', 6],
        ['dr_groups', 2],
        ['dr_gw_lists', 1],
        ['dr_rules', 4],
      ]);
    });
  });

  it('two nodes starting together on a new database both come up: one migrates, the other waits for it', async () => {
    const both = await Promise.all([
      prepareStore(db.url, { seedExample: false }),
      prepareStore(db.url, { seedExample: false }),
    ]);
    try {
      expect(both.filter((prepared) => prepared.schemaCreated).length).toBeGreaterThanOrEqual(1);
      for (const { store } of both) expect(await store.countPeers()).toBe(0);
    } finally {
      for (const { store } of both) await store.close();
    }
    // The second waits for the first's migration: on a loaded machine that takes longer than a test's usual 20 s.
  }, 60_000);

  it('agrees on a shared value: the first candidate stays, for two stores asking at once and after a restart', async () => {
    const both = await Promise.all([
      prepareStore(db.url, { seedExample: false }),
      prepareStore(db.url, { seedExample: false }),
    ]);
    let agreed: string | undefined;
    try {
      const [a, b] = both.map((prepared) => prepared.store);
      const answers = await Promise.all([a?.sharedValue('secret', 'from-a'), b?.sharedValue('secret', 'from-b')]);
      agreed = answers[0];
      expect(answers[1]).toBe(agreed);
      expect(['from-a', 'from-b']).toContain(agreed);
      expect(await a?.sharedValue('secret', 'later')).toBe(agreed);
    } finally {
      for (const { store } of both) await store.close();
    }
    await withPreparedStore(db.url, async ({ store }) => {
      expect(await store.sharedValue('secret', 'after-restart')).toBe(agreed);
      expect(await db.exec('SELECT name, value FROM drouter_shared')).toHaveLength(1);
    });
  }, 60_000);

  it('a second start changes nothing: no new tables, no second copy of the example', async () => {
    const first = await prepareStore(db.url, { seedExample: true });
    await first.store.close();
    const second = await prepareStore(db.url, { seedExample: true });
    try {
      expect(second.schemaCreated).toBe(false);
      expect(second.seeded).toBeUndefined();
      expect((await second.store.loadRoutingRows()).gateways).toHaveLength(2);
      expect(await db.exec('SELECT table_name FROM version')).toHaveLength(6);
    } finally {
      await second.store.close();
    }
  });

  it("keeps an operator's existing tables as they are, reads them and creates none beside them", async () => {
    await db.exec(
      `CREATE TABLE dr_gateways (id INTEGER PRIMARY KEY, gwid CHAR(64) NOT NULL, type INTEGER NOT NULL DEFAULT 0,
        address CHAR(128) NOT NULL, strip INTEGER NOT NULL DEFAULT 0, pri_prefix CHAR(16), attrs CHAR(255),
        probe_mode INTEGER NOT NULL DEFAULT 0, state INTEGER NOT NULL DEFAULT 0, socket CHAR(128),
        description CHAR(128), operator_note CHAR(32))`,
    );
    await db.exec(
      `CREATE TABLE dr_rules (ruleid INTEGER PRIMARY KEY, groupid CHAR(255) NOT NULL, prefix CHAR(64) NOT NULL, timerec CHAR(255),
        priority INTEGER NOT NULL DEFAULT 0, routeid CHAR(255), gwlist CHAR(255), sort_alg CHAR(1) NOT NULL DEFAULT 'N',
        sort_profile INTEGER, attrs CHAR(255), description CHAR(128))`,
    );
    await db.exec("INSERT INTO dr_gateways (id, gwid, address, operator_note) VALUES (9, 'ast9', '10.0.0.9', 'mine')");
    await withPreparedStore(db.url, async ({ store, schemaCreated, seeded }) => {
      expect(schemaCreated).toBe(false);
      expect(seeded).toBeUndefined();
      const rows = await store.loadRoutingRows();
      expect(rows.gateways.map((g) => [g.id, g.gwid, g.address])).toEqual([[9, 'ast9', '10.0.0.9']]);
      expect(await db.exec('SELECT operator_note FROM dr_gateways')).toEqual([{ operator_note: 'mine' }]);
      expect(rows.rules).toEqual([]);
    });
    const tables = await db.exec(
      kind.name === 'mysql'
        ? 'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME'
        : "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    );
    expect(tables.map((table) => table.name)).toEqual(['dr_gateways', 'dr_rules']);
  });

  it('reports a wrong value with table, row and column instead of dropping the row silently', async () => {
    await withPreparedStore(db.url, async ({ store }) => {
      await loosenColumn(kind, db, 'dr_gateways', 'strip');
      await db.exec("INSERT INTO dr_gateways (gwid, address, strip) VALUES ('bad', '127.0.0.9', 'abc')");
      const rows = await store.loadRoutingRows();
      expect(rows.gateways.map((g) => g.gwid)).toEqual(['1', '2']);
      expect(rows.problems).toEqual([
        {
          table: 'dr_gateways',
          row: 'id=3 (gwid "bad")',
          column: 'strip',
          value: 'abc',
          problem: 'is not an integer (column type int(11) unsigned)',
        },
      ]);
    });
  });

  it('reads a peer by name as a typed row and writes the registration columns back', async () => {
    const registration = {
      ipaddr: '127.0.0.10',
      port: 5062,
      regseconds: 1_800_000_000,
      fullcontact: 'sip:1001@127.0.0.10:5062;transport=udp',
      useragent: 'Zoiper rv2.10',
      defaultuser: '1001',
      regserver: 'node-a',
      lastms: 12,
    };
    await withPreparedStore(db.url, async ({ store }) => {
      const peer = await store.findPeerByName('1001');
      expect(peer).toMatchObject({
        name: '1001',
        type: 'friend',
        host: 'dynamic',
        secret: 'secret1001',
        ipaddr: null,
        regseconds: null,
      });
      expect(await store.findPeerByName('nobody')).toBeUndefined();

      const written = await store.writeRegistration('1001', registration);
      expect(written).toBe(true);
      const [row] = await db.exec(
        "SELECT ipaddr, port, regseconds, fullcontact, useragent, defaultuser, regserver, lastms FROM sippeers WHERE name = '1001'",
      );
      expect(row).toEqual(registration);
      expect(await store.writeRegistration('nobody', { port: 1 })).toBe(false);
    });
  });

  it('writes registrations sent together in one go, each answered on its own, a failing one alone', async () => {
    await withPreparedStore(db.url, async ({ store }) => {
      const outcomes = await Promise.allSettled([
        store.writeRegistration('1001', { port: 5071 }),
        store.writeRegistration('nobody', { port: 5072 }),
        // A column the table lacks makes the shared transaction fail: the others must still land.
        store.writeRegistration('1002', { nosuchcolumn: 1 } as never),
        store.writeRegistration('1002', { port: 5073 }),
      ]);
      expect(outcomes.map((outcome) => outcome.status === 'fulfilled' && outcome.value)).toEqual([
        true,
        false,
        false,
        true,
      ]);
      expect(outcomes[2]?.status).toBe('rejected');
      const rows = await db.exec("SELECT name, port FROM sippeers WHERE name IN ('1001', '1002') ORDER BY name");
      expect(rows).toEqual([
        { name: '1001', port: 5071 },
        { name: '1002', port: 5073 },
      ]);
    });
  });

  it('refuses a peer row whose value does not fit, naming the column', async () => {
    await withPreparedStore(db.url, async ({ store }) => {
      await loosenColumn(kind, db, 'sippeers', 'port');
      await db.exec("UPDATE sippeers SET port = 'fivethousand' WHERE name = '1002'");
      const error = await store.findPeerByName('1002').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RowError);
      expect((error as RowError).code).toBe('DROUTER_ERR_ROW');
      expect((error as RowError).message).toMatch(
        /^sippeers row id=\d+ \(name "1002"\): column port = "fivethousand": is not an integer/,
      );
    });
  });

  it('streams a large dr_rules in pages, in ruleid order, with nothing lost between pages', async () => {
    await withPreparedStore(db.url, async ({ store }) => {
      const count = 120_005;
      const sequence = 'seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ' + count + ')';
      const select = `SELECT '0', ${kind.name === 'mysql' ? "CONCAT('9', n)" : "'9' || n"}, '1' FROM seq`;
      if (kind.name === 'mysql') await db.exec(`SET SESSION max_recursive_iterations = ${count + 1}`);
      await db.exec(
        kind.name === 'mysql'
          ? `INSERT INTO dr_rules (groupid, prefix, gwlist) WITH RECURSIVE ${sequence} ${select}`
          : `WITH RECURSIVE ${sequence} INSERT INTO dr_rules (groupid, prefix, gwlist) ${select}`,
      );
      const stream = await store.streamRoutingRows();
      const pageSizes: number[] = [];
      let previous = 0;
      let ordered = true;
      for await (const page of stream.rulePages) {
        pageSizes.push(page.rows.length);
        for (const row of page.rows) {
          if (row.ruleid <= previous) ordered = false;
          previous = row.ruleid;
        }
      }
      expect(pageSizes.length).toBeGreaterThan(2);
      expect(pageSizes.reduce((a, b) => a + b, 0)).toBe(count + 3);
      expect(ordered).toBe(true);
      expect((await store.loadRoutingRows()).rules).toHaveLength(count + 3);
    });
  });

  it('drouter seed refuses tables that already hold rows', async () => {
    await seedStore(db.url);
    await expect(seedStore(db.url)).rejects.toMatchObject({
      code: 'DROUTER_ERR_SEED',
      message: expect.stringContaining('dr_gateways already has rows') as unknown,
    });
    const [count] = await db.exec('SELECT COUNT(*) AS n FROM dr_gateways');
    expect(Number(count?.n)).toBe(2);
  });
});

describe('a SQLite store', () => {
  it('writes through a write-ahead log that keeps every commit synced', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'drouter-wal-')), 'store.db');
    const { store } = await prepareStore(`sqlite:${file}`, { seedExample: true });
    await store.close();
    const { knex } = await openKnex(`sqlite:${file}`);
    try {
      expect(await knex.raw('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
      expect(await knex.raw('PRAGMA synchronous')).toEqual([{ synchronous: 2 }]);
    } finally {
      await knex.destroy();
    }
  });

  it('commits write-backs off the SIP thread: a locked database holds up the write, not the event loop', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'drouter-writer-')), 'store.db');
    await withPreparedStore(`sqlite:${file}`, async ({ store }) => {
      const locker = new Database(file);
      locker.exec('BEGIN IMMEDIATE');
      try {
        const write = store.writeRegistration('1001', { port: 5099 });
        // On the SIP thread, better-sqlite3 would busy-wait for the lock here, timers and all.
        const started = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(Date.now() - started).toBeLessThan(1000);
        expect((await store.findPeerByName('1001'))?.port).not.toBe(5099);
        locker.exec('COMMIT');
        expect(await write).toBe(true);
        expect((await store.findPeerByName('1001'))?.port).toBe(5099);
      } finally {
        if (locker.inTransaction) locker.exec('ROLLBACK');
        locker.close();
      }
    });
  });
});

describe('an unreachable store', () => {
  it('gives a typed error naming the MySQL URL with the password hidden', async () => {
    const error = await prepareStore('mysql://root:hunter2@127.0.0.1:1/test', { seedExample: false }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreUnreachableError);
    const message = (error as Error).message;
    expect(message).toContain('mysql://root:***@127.0.0.1:1/test');
    expect(message).not.toContain('hunter2');
    expect((error as StoreUnreachableError).code).toBe('DROUTER_ERR_STORE_UNREACHABLE');
  });

  it('gives a typed error for a SQLite file that cannot be created', async () => {
    const notADirectory = join(mkdtempSync(join(tmpdir(), 'drouter-file-')), 'plain-file');
    writeFileSync(notADirectory, '');
    const url = `sqlite:${notADirectory}/data/none.db`;
    const error = await prepareStore(url, { seedExample: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnreachableError);
    expect((error as Error).message).toContain(`cannot reach the store at ${url}`);
  });
});
