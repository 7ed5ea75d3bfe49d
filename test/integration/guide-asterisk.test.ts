import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CONFIG_LEAVES } from '../../src/config/schema-leaves.js';
import { configSchema } from '../../src/config/schema.js';
import { sippeersTable } from '../../src/core/model/sippeers-table.js';
import { databaseKinds, mysqlOptions } from '../support/databases.js';
import { readDocument } from '../support/documentation.js';
import { REPO_ROOT } from '../support/repo-root.js';
import { clientMissing, databaseClient, guideBlocks, runGuide, shownBlocks } from '../support/guide-runner.js';
import { describeUnless, mysqlMissing } from '../support/skip-reason.js';

/**
 * Asterisk is not packaged in Debian 12: what its files name is checked
 * against our table and configuration, and on MariaDB the guide's SQL runs and
 * its user does what res_config_mysql does with the rows.
 */

const GUIDE = 'docs/guides/asterisk-realtime.md';
const TEXT = readDocument(GUIDE);

/** The columns of sql/04-sippeers.sql's CREATE TABLE. */
function ddlColumns(): string[] {
  const ddl = readFileSync(join(REPO_ROOT, 'sql', '04-sippeers.sql'), 'utf8');
  return [...ddl.matchAll(/^ {4}`?([a-z0-9_-]+)`? (?:INTEGER|VARCHAR|ENUM)/gm)].map((match) => match[1] ?? '');
}

/** The columns the guide relies on: its grants', and those chan_sip requires, as the guide lists them. */
function columnsRelied(): string[] {
  const grants = guideBlocks(GUIDE)
    .filter((block) => block.kind === 'sql')
    .map((block) => block.text)
    .join('\n');
  const granted = [...grants.matchAll(/GRANT \w+ \(([^)]*)\)/g)].flatMap((match) => (match[1] ?? '').split(','));
  const required = /chan_sip requires these columns of the table[\s\S]*?\): ([a-z_,\s]+)\./.exec(TEXT)?.[1] ?? '';
  if (granted.length === 0 || required === '')
    throw new Error(`${GUIDE}: no column-level GRANT or no list of the columns chan_sip requires`);
  return [...granted, ...required.split(',')].map((column) => column.trim());
}

const SIP_CONF_TWINS: Readonly<Record<string, string>> = { rtautoclear: 'registrar.rtautoclearSeconds' };

describe(`${GUIDE}: what its Asterisk files rely on`, () => {
  it('every column it names is in sql/04-sippeers.sql and in the sippeers a migration creates', () => {
    const columns = columnsRelied();
    expect(columns.length).toBeGreaterThan(9);
    expect(columns.filter((column) => !ddlColumns().includes(column))).toEqual([]);
    expect(columns.filter((column) => !sippeersTable.columns.some((known) => known.name === column))).toEqual([]);
  });

  it("each sip.conf realtime option has its registrar.* twin, and the guide's YAML is a valid configuration", () => {
    const sipConf = shownBlocks(GUIDE, 'ini').find((block) => block.includes('rtupdate')) ?? '';
    const options = [...sipConf.matchAll(/^(\w+) = /gm)].map((match) => match[1] ?? '');
    expect(options).toContain('rtcachefriends');
    const keys = new Set(CONFIG_LEAVES.map((leaf) => leaf.key));
    expect(options.filter((option) => !keys.has(SIP_CONF_TWINS[option] ?? `registrar.${option}`))).toEqual([]);
    const [yaml] = shownBlocks(GUIDE, 'yaml');
    const registrar = configSchema.parse(parse(yaml ?? '')).registrar;
    expect(registrar).toMatchObject({
      rtcachefriends: true,
      rtupdate: true,
      rtsavesysname: false,
      rtautoclearSeconds: 120,
      ignoreregexpire: false,
    });
  });
});

const MYSQL = databaseKinds().find((kind) => kind.name === 'mysql');

describeUnless(mysqlMissing() || clientMissing('mysql'))(`${GUIDE} on MariaDB`, () => {
  it('its SQL runs as it is; the user it creates reads a peer and writes a registration as res_config_mysql does, and may not change a secret', async () => {
    if (!MYSQL) throw new Error('this suite runs with DROUTER_TEST_MYSQL_URL only');
    const database = await MYSQL.create('guide_ast');
    try {
      await database.exec(readFileSync(join(REPO_ROOT, 'sql', '04-sippeers.sql'), 'utf8'));
      await database.exec(
        "INSERT INTO sippeers (name, type, host, secret) VALUES ('2001', 'friend', 'dynamic', 'correct-horse-battery-staple')",
      );
      expect(await runGuide(GUIDE, { site: {}, sqlClient: databaseClient(database.url) })).toHaveLength(1);

      const asterisk = await mysql.createConnection({
        ...mysqlOptions(database.url),
        user: 'asterisk',
        password: 'change-me',
      });
      try {
        const [peers] = await asterisk.query("SELECT * FROM sippeers WHERE name = '2001'");
        expect(peers).toMatchObject([{ name: '2001', host: 'dynamic', secret: 'correct-horse-battery-staple' }]);
        // chan_sip's realtime_update_peer: one UPDATE of the registration columns by name.
        await asterisk.query(
          "UPDATE sippeers SET ipaddr = '192.0.2.50', port = 5060, regseconds = 1900000000, defaultuser = '2001', useragent = 'Yealink', lastms = 12, path = NULL, fullcontact = 'sip:2001@192.0.2.50:5060', regserver = 'pbx1' WHERE name = '2001'",
        );
        expect(
          await database.exec("SELECT ipaddr, port, fullcontact, regserver FROM sippeers WHERE name = '2001'"),
        ).toEqual([{ ipaddr: '192.0.2.50', port: 5060, fullcontact: 'sip:2001@192.0.2.50:5060', regserver: 'pbx1' }]);
        await expect(asterisk.query("UPDATE sippeers SET secret = 'guessed' WHERE name = '2001'")).rejects.toThrow(
          /UPDATE command denied|denied .*secret/,
        );
      } finally {
        await asterisk.end();
      }
    } finally {
      await database.exec("DROP USER IF EXISTS 'asterisk'@'127.0.0.1'");
      await database.drop();
    }
  });
});
