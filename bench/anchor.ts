import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { callProfile, REGISTERING_USERS, registrationProfile } from './load-profiles.js';
import { announceSippBenchmark, findSustainedRates, work } from './sipp-load.js';

/**
 * `npm run bench` (anchor part): Kamailio 5.6 in the proxy's place, by the
 * same method and loads (bench/sipp-load.ts, bench/load-profiles.ts) on the
 * same machine in the same run, so that the issues' anchor figures are
 * measured here rather than quoted: calls (gateway 1 answers), failover
 * calls (gateway 1 answers 503, gateway 2 takes the call), calls answering
 * a 407 (proxy_authorize) and REGISTER with digest over the same users. The configurations are bench/kamailio/*.cfg;
 * their tables (drouting's gateways and rule, the subscriber table of
 * auth_db) are in a SQLite file written here. Kamailio runs as `kamailio
 * -DD` on core 0: its main process stays the one the harness spawned, the
 * workers are its children (their CPU is counted with it) and stop with it.
 * Without Kamailio (apt-get install kamailio kamailio-sqlite-modules) the
 * part says so and is skipped.
 */

const CONFIGS = join(import.meta.dirname, '..', '..', 'bench', 'kamailio');
const FIRST_USER = 20_000;

/** The installed Kamailio's version (`kamailio -v`), or undefined when there is none. */
function kamailioVersion(): string | undefined {
  const run = spawnSync('kamailio', ['-v'], { encoding: 'utf8' });
  if (run.error) return undefined;
  return /version: kamailio (\S+)/.exec(run.stdout)?.[1] ?? 'unknown version';
}

/** The tables both configurations read, written with the schema versions Kamailio 5.6 checks. */
function prepareTables(file: string): void {
  const db = new Database(file);
  db.exec(`
    CREATE TABLE version (table_name VARCHAR(32) NOT NULL, table_version INTEGER NOT NULL);
    INSERT INTO version VALUES ('anchor_subscriber', 7), ('dr_gateways', 3), ('dr_rules', 3), ('dr_groups', 2), ('dr_gw_lists', 1);
    CREATE TABLE anchor_subscriber (id INTEGER PRIMARY KEY, username VARCHAR(64) NOT NULL, domain VARCHAR(64) NOT NULL DEFAULT '',
      password VARCHAR(64) NOT NULL, ha1 VARCHAR(128) NOT NULL DEFAULT '', ha1b VARCHAR(128) NOT NULL DEFAULT '');
    CREATE UNIQUE INDEX anchor_subscriber_account ON anchor_subscriber (username, domain);
    CREATE TABLE dr_gateways (gwid INTEGER PRIMARY KEY, type INTEGER NOT NULL DEFAULT 0, address VARCHAR(128) NOT NULL,
      strip INTEGER NOT NULL DEFAULT 0, pri_prefix VARCHAR(64), attrs VARCHAR(255), description VARCHAR(128) NOT NULL DEFAULT '');
    CREATE TABLE dr_rules (ruleid INTEGER PRIMARY KEY, groupid VARCHAR(255) NOT NULL, prefix VARCHAR(64) NOT NULL, timerec VARCHAR(255) NOT NULL,
      priority INTEGER NOT NULL DEFAULT 0, routeid VARCHAR(64) NOT NULL, gwlist VARCHAR(255) NOT NULL, description VARCHAR(128) NOT NULL DEFAULT '');
    CREATE TABLE dr_groups (id INTEGER PRIMARY KEY, username VARCHAR(64) NOT NULL, domain VARCHAR(128) NOT NULL DEFAULT '',
      groupid INTEGER NOT NULL DEFAULT 0, description VARCHAR(128) NOT NULL DEFAULT '');
    CREATE TABLE dr_gw_lists (id INTEGER PRIMARY KEY, gwlist VARCHAR(255) NOT NULL, description VARCHAR(128) NOT NULL DEFAULT '');
    INSERT INTO dr_gateways (gwid, address, description) VALUES (1, '127.0.0.2:5060', 'gateway 1'), (2, '127.0.0.3:5060', 'gateway 2');
    -- Group 1, every number (empty prefix), any time: gateway 1, then gateway 2.
    INSERT INTO dr_rules (groupid, prefix, timerec, routeid, gwlist, description) VALUES ('1', '', '', '', '1,2', 'every number');
  `);
  const insert = db.prepare('INSERT INTO anchor_subscriber (username, password) VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < REGISTERING_USERS; i++) insert.run(String(FIRST_USER + i), `pw${FIRST_USER + i}`);
    // The caller of the authenticated calls (callProfile's `authenticated`: peer 1001 in the proxy's example data).
    insert.run('1001', 'secret1001');
  })();
  if (existsSync(USRLOC_DDL)) db.exec(readFileSync(USRLOC_DDL, 'utf8'));
  db.close();
}

/**
 * Kamailio's command line for a configuration of bench/kamailio: foreground
 * main (-DD), logs to stderr (ignored), 1 GB shared and 16 MB private memory
 * managed by TLSF (-x, -X) rather than the package's default q_malloc, which
 * took a quarter of the CPU of a call here (its first-fit search): TLSF is
 * what a tuned production start would use.
 */
function kamailioCommand(config: string, dbFile: string, defines: readonly string[] = []): [string, ...string[]] {
  const extra = defines.flatMap((define) => ['-A', define]);
  return ['kamailio', '-DD', '-E', '-f', join(CONFIGS, config), '-A', `DBURL="sqlite://${dbFile}"`, ...extra, '-m', '1024', '-M', '16', '-x', 'tlsf', '-X', 'tlsf', '-Y', work];
}

/** usrloc's location table as Kamailio's own package creates it (kamailio-sqlite-modules), for the write-through run. */
const USRLOC_DDL = '/usr/share/kamailio/db_sqlite/usrloc-create.sql';

const version = kamailioVersion();
if (!version) {
  console.log('anchor benchmark: kamailio is not installed (apt-get install kamailio kamailio-sqlite-modules); skipped');
} else if (announceSippBenchmark('anchor', `Kamailio ${version}, 1 UDP worker, ${REGISTERING_USERS} users`)) {
  const dbFile = join(work, 'kamailio-anchor.db');
  prepareTables(dbFile);
  // The configurations must load (modules such as db_sqlite are a separate package) before any step counts on them.
  const check = spawnSync('kamailio', ['-c', ...kamailioCommand('registrations.cfg', dbFile).slice(1)], { encoding: 'utf8' });
  const checkCalls = spawnSync('kamailio', ['-c', ...kamailioCommand('calls.cfg', dbFile).slice(1)], { encoding: 'utf8' });
  const checkAuthCalls = spawnSync('kamailio', ['-c', ...kamailioCommand('calls.cfg', dbFile, ['AUTH']).slice(1)], { encoding: 'utf8' });
  const failed = [check, checkCalls, checkAuthCalls].find((run) => run.status !== 0);
  if (failed) {
    const reason = (failed.stderr || failed.stdout).trim().split('\n').find((line) => /ERROR|CRITICAL/.test(line)) ?? `exit ${failed.status}`;
    console.log(`anchor benchmark: the Kamailio configurations do not load (apt-get install kamailio-sqlite-modules?): ${reason}; skipped`);
  } else {
    const name = `Kamailio ${version}`;
    const calls = { name, command: kamailioCommand('calls.cfg', dbFile) } as const;
    await findSustainedRates({ ...callProfile('anchor: calls, drouting to gateway 1', 'uas-answer.xml'), standIn: calls }, 1000);
    await findSustainedRates({ ...callProfile('anchor: failover calls, gateway 1 answers 503', 'uas-503.xml'), standIn: calls }, 1000);
    const authCalls = { name, command: kamailioCommand('calls.cfg', dbFile, ['AUTH']) } as const;
    await findSustainedRates(
      { ...callProfile('anchor: calls answering a 407, proxy_authorize with auth_db on SQLite', 'uas-answer.xml', { authenticated: true }), standIn: authCalls },
      1000,
    );
    const registrar = { name, command: kamailioCommand('registrations.cfg', dbFile) } as const;
    await findSustainedRates(
      { ...registrationProfile(), label: 'anchor: REGISTER with digest, auth_db on SQLite, usrloc in memory', prepareStore: undefined, standIn: registrar },
      2000,
    );
    if (existsSync(USRLOC_DDL)) {
      const writeThrough = { name, command: kamailioCommand('registrations.cfg', dbFile, ['UL_DB_MODE=1']) } as const;
      await findSustainedRates(
        { ...registrationProfile(), label: 'anchor: REGISTER with digest, auth_db on SQLite, usrloc db_mode 1 (write-through to SQLite)', prepareStore: undefined, standIn: writeThrough },
        500,
      );
    } else console.log(`anchor: usrloc write-through skipped: ${USRLOC_DDL} is missing (apt-get install kamailio-sqlite-modules)`);
  }
}
