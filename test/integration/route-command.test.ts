import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runDrouter } from '../support/drouter-process.js';

interface RouteJson {
  outcome: string;
  group: number | null;
  prefix: string | null;
  ruleId: number | null;
  destinations: { gwid: string; uri: string | null; state: string; via: string | null }[];
}

describe('drouter route and drouter check on the example data', () => {
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'drouter-route-'));
    // No server listens at this admin port: `drouter route` answers from the database.
    env = { DROUTER_STORE__URL: `sqlite:${join(dir, 'drouter.db')}`, DROUTER_ADMIN__PORT: String(await freePort()) };
    expect((await runDrouter(['seed'], env).finished).code).toBe(0);
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  async function routeJson(...args: string[]): Promise<RouteJson> {
    const finished = await runDrouter(['route', ...args, '--json'], env).finished;
    expect(finished.code).toBe(0);
    return JSON.parse(finished.stdout) as RouteJson;
  }

  it('011… goes to list #1: gateway 1, then 2', async () => {
    const decision = await routeJson('01144201234567', '--from', '1001@example.com', '--group', '0');
    expect(decision).toMatchObject({ outcome: 'routed', group: 0, prefix: '011', ruleId: 1 });
    expect(decision.destinations).toEqual([
      expect.objectContaining({ gwid: '1', via: '#1', state: 'active', uri: 'sip:01144201234567@127.0.0.2:5060' }),
      expect.objectContaining({ gwid: '2', via: '#1', state: 'active', uri: 'sip:01144201234567@127.0.0.3:5060' }),
    ]);
  });

  it("the exact number takes Fred's rule, the longest prefix; other numbers of 1 rule 3; the rest no rule", async () => {
    expect(await routeJson('12025551234', '--group', '0')).toMatchObject({ prefix: '12025551234', ruleId: 2 });
    expect(await routeJson('12125550100', '--group', '0')).toMatchObject({ prefix: '1', ruleId: 3 });
    expect(await routeJson('4420123', '--group', '0')).toMatchObject({ outcome: 'no-rule', ruleId: null });
  });

  it('finds the group of a seeded phone in dr_groups, and none for a stranger', async () => {
    expect(await routeJson('011', '--from', '1001@127.0.0.1')).toMatchObject({
      outcome: 'routed',
      group: 0,
      ruleId: 1,
    });
    const userOnly = await runDrouter(['route', '011', '--from', '1001@elsewhere'], {
      ...env,
      DROUTER_ROUTING__USE_DOMAIN: 'false',
    }).finished;
    expect(userOnly.stdout).toContain('group    0 (1001 is in group 0 (dr_groups))');
    const stranger = await routeJson('011', '--from', 'mallory@example.com');
    expect(stranger).toMatchObject({ outcome: 'no-rule', group: null });
  });

  it('prints a readable report by default', async () => {
    const finished = await runDrouter(['route', '01144', '--group', '0', '--at', '2026-11-26T09:30:00Z'], env).finished;
    expect(finished.stdout).toContain('outcome  routed');
    expect(finished.stdout).toContain('rule     1, prefix "011"');
    expect(finished.stdout).toMatch(/1\s+1\s+#1\s+127\.0\.0\.2:5060\s+active\s+sip:01144@127\.0\.0\.2:5060/);
  });

  it('says which source answered: the store, when no server listens at the admin URL', async () => {
    const json = await runDrouter(['route', '011', '--group', '0', '--json'], env).finished;
    expect(JSON.parse(json.stdout)).toMatchObject({ source: { answeredBy: 'store', url: env.DROUTER_STORE__URL } });
    expect(json.stderr).toContain(
      `drouter: no server at http://127.0.0.1:${env.DROUTER_ADMIN__PORT}; routing from the database without live gateway state`,
    );
    const text = await runDrouter(['route', '011', '--group', '0'], env).finished;
    expect(text.stdout.split('\n')[0]).toBe(
      `source   the store ${env.DROUTER_STORE__URL} (gateway states as stored; no server answered)`,
    );
  });

  it('rejects a bad --at with exit 2', async () => {
    const finished = await runDrouter(['route', '011', '--at', 'tomorrow'], env).finished;
    expect(finished.code).toBe(2);
    expect(finished.stderr).toContain('DROUTER_ERR_USAGE: at "tomorrow"');
  });

  it('drouter check passes the example data clean; a row OpenSIPS skips is listed as skipped (exit 0), an error with --strict (exit 1)', async () => {
    const clean = await runDrouter(['check'], env).finished;
    expect(clean.code).toBe(0);
    expect(clean.stdout).not.toMatch(/^(warning|skipped|error) /m);
    expect(clean.stdout).toContain(
      'routing data builds: 0 errors, 0 rows skipped, 0 warnings (2 gateways, 0 carriers, 3 rules)',
    );

    const db = new Database(join(dir, 'drouter.db'));
    db.exec(
      "INSERT INTO dr_rules (ruleid, groupid, prefix, gwlist) VALUES (50, '0', '77', '1,9'), (51, '0', '78', '1;2')",
    );
    db.close();
    const skipped = await runDrouter(['check'], env).finished;
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toContain(
      'warning  dr_rules row ruleid=50: column gwlist = "1,9": gateway 9 is not in dr_gateways (or its row was skipped): left out of the list',
    );
    expect(skipped.stdout).toContain(
      'skipped  dr_rules row ruleid=51: column gwlist = "1;2": ";" at position 2 is not a separator (, |): row skipped',
    );
    expect(skipped.stdout).toContain('routing data builds: 0 errors, 1 row skipped, 1 warning');
    const strict = await runDrouter(['check', '--strict'], env).finished;
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain(
      'error    dr_rules row ruleid=51: column gwlist = "1;2": ";" at position 2 is not a separator (, |): row skipped',
    );
    expect(strict.stdout).toContain('routing data does not build: 1 error, 0 rows skipped, 1 warning');
  });

  it('on a store without the tables says to run drouter migrate', async () => {
    const finished = await runDrouter(['route', '011'], { DROUTER_STORE__URL: `sqlite:${join(dir, 'empty.db')}` })
      .finished;
    expect(finished.code).toBe(2);
    expect(finished.stderr).toMatch(
      /DROUTER_ERR_SCHEMA: the store at sqlite:.*empty\.db lacks a table \(.*\): run drouter migrate/,
    );
  });
});
