import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { work } from './sipp-load.js';

/**
 * Kamailio 5.6 in the proxy's place (bench/anchor.ts, bench/million.ts):
 * its command line, the tables its configurations read, and whether it is
 * here at all. The configurations are bench/kamailio/*.cfg.
 */

const CONFIGS = join(import.meta.dirname, '..', '..', 'bench', 'kamailio');

/** usrloc's location table as Kamailio's own package creates it (kamailio-sqlite-modules), for the write-through run. */
export const USRLOC_DDL = '/usr/share/kamailio/db_sqlite/usrloc-create.sql';

/** The installed Kamailio's version (`kamailio -v`), or undefined when there is none. */
export function kamailioVersion(): string | undefined {
  const run = spawnSync('kamailio', ['-v'], { encoding: 'utf8' });
  if (run.error) return undefined;
  return /version: kamailio (\S+)/.exec(run.stdout)?.[1] ?? 'unknown version';
}

export interface KamailioTables {
  /** dr_rules of group 1, each to gateway 1 then gateway 2: the prefixes (default: one rule with the empty prefix, every number). */
  prefixes?: readonly string[];
  /** anchor_subscriber rows (auth_db): user and plain password. */
  subscribers?: readonly (readonly [string, string])[];
}

/** The tables the configurations read, written with the schema versions Kamailio 5.6 checks, into a fresh SQLite file. */
export function prepareKamailioTables(file: string, tables: KamailioTables): void {
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
  `);
  const insertRule = db.prepare(
    "INSERT INTO dr_rules (groupid, prefix, timerec, routeid, gwlist) VALUES ('1', ?, '', '', '1,2')",
  );
  const insertSubscriber = db.prepare('INSERT INTO anchor_subscriber (username, password) VALUES (?, ?)');
  db.transaction(() => {
    for (const prefix of tables.prefixes ?? ['']) insertRule.run(prefix);
    for (const [user, password] of tables.subscribers ?? []) insertSubscriber.run(user, password);
  })();
  if (existsSync(USRLOC_DDL)) db.exec(readFileSync(USRLOC_DDL, 'utf8'));
  db.close();
}

/**
 * Kamailio's command line for a configuration of bench/kamailio: foreground
 * main (-DD), logs to stderr (ignored), shared and private memory (1 GB and
 * 16 MB unless `memory` says more: drouting reads its whole table into a
 * worker's private memory before building in shared memory) managed by TLSF (-x, -X) rather than the package's default
 * q_malloc, which took a quarter of the CPU of a call here (its first-fit
 * search): TLSF is what a tuned production start would use.
 */
export function kamailioCommand(
  config: string,
  dbFile: string,
  defines: readonly string[] = [],
  memory: { sharedMb: number; privateMb: number } = { sharedMb: 1024, privateMb: 16 },
): [string, ...string[]] {
  const extra = defines.flatMap((define) => ['-A', define]);
  return [
    'kamailio',
    '-DD',
    '-E',
    '-f',
    join(CONFIGS, config),
    '-A',
    `DBURL="sqlite://${dbFile}"`,
    ...extra,
    '-m',
    String(memory.sharedMb),
    '-M',
    String(memory.privateMb),
    '-x',
    'tlsf',
    '-X',
    'tlsf',
    '-Y',
    work,
  ];
}

/** Why the configuration does not load (`kamailio -c`), or undefined when it does: modules such as db_sqlite are a separate package. */
export function kamailioConfigProblem(command: readonly [string, ...string[]]): string | undefined {
  const check = spawnSync('kamailio', ['-c', ...command.slice(1)], { encoding: 'utf8' });
  if (check.status === 0) return undefined;
  return (
    (check.stderr || check.stdout)
      .trim()
      .split('\n')
      .find((line) => /ERROR|CRITICAL/.test(line)) ?? `exit ${check.status}`
  );
}
