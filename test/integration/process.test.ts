import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createServer } from 'node:net';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseKinds } from '../support/databases.js';
import { freePort, runDrouter, waitForOutput } from '../support/drouter-process.js';
import { startTcpRelay } from '../support/tcp-relay.js';
import { itUnless, mysqlMissing } from '../support/skip-reason.js';

describe('the drouter process', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'drouter-process-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  async function startOnFreshStore() {
    const port = await freePort();
    const run = runDrouter(['start'], {
      DROUTER_STORE__URL: `sqlite:${join(dir, 'data', 'drouter.db')}`,
      DROUTER_ADMIN__PORT: String(port),
      DROUTER_SIP__PORT: String(await freePort()),
    });
    const line = await waitForOutput(run, /drouter started/);
    return { run, port, line };
  }

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`starts on the embedded default, serves /health, and exits 0 on ${signal} within 2 s`, async () => {
      const { run, port, line } = await startOnFreshStore();
      const logged = JSON.parse(line) as { msg: string };
      expect(logged.msg).toMatch(
        /schema created, example data loaded\): 2 gateways, 0 carriers, 3 rules, 4 callers in dr_groups, 4 peers; SIP udp\+tcp 127\.0\.0\.1:\d+; admin http:\/\/127\.0\.0\.1:\d+/,
      );

      const response = await fetch(`http://127.0.0.1:${port}/health`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        status: string;
        store: unknown;
        sip: unknown;
        routing: Record<string, unknown>;
      };
      expect(body.status).toBe('ok');
      expect(body.store).toEqual({ ok: true, url: `sqlite:${join(dir, 'data', 'drouter.db')}` });
      expect(body.routing).toMatchObject({ generation: 1, gateways: 2, carriers: 0, rules: 3, callers: 4 });
      expect(body.sip).toMatchObject({
        ok: true,
        engine: 'native',
        listening: expect.stringMatching(/^udp\+tcp 127\.0\.0\.1:\d+$/) as unknown,
      });
      expect(body.routing.warnings).toEqual([]);

      const sentAt = performance.now();
      run.child.kill(signal);
      const finished = await run.finished;
      expect(finished.code).toBe(0);
      expect(performance.now() - sentAt).toBeLessThan(2000);
    });
  }

  it('on a second start finds the schema and does not load the example again', async () => {
    const first = await startOnFreshStore();
    first.run.child.kill('SIGTERM');
    await first.run.finished;
    const { run, line } = await startOnFreshStore();
    expect(line).not.toContain('schema created');
    expect(line).toContain('2 gateways, 0 carriers, 3 rules');
    run.child.kill('SIGTERM');
    expect((await run.finished).code).toBe(0);
  });

  it('with bad configuration values exits 2 naming each key, value and what is allowed', async () => {
    const run = runDrouter(['start'], {
      DROUTER_ADMIN__PORT: String(await freePort()),
      DROUTER_SIP__PORT: '70000',
      DROUTER_STORE__URL: 'postgres://drouter:s3cret@db/x',
      DROUTER_SIP__ENGINE: 'asterisk',
    });
    const finished = await run.finished;
    expect(finished.code).toBe(2);
    expect(finished.stderr).toContain('DROUTER_ERR_CONFIG');
    expect(finished.stderr).toContain('sip.port = 70000 (from DROUTER_SIP__PORT): an integer port from 1 to 65535');
    expect(finished.stderr).toContain('sip.engine = "asterisk" (from DROUTER_SIP__ENGINE): one of native, drachtio');
    expect(finished.stderr).toContain('store.url = "postgres://drouter:***@db/x" (from DROUTER_STORE__URL)');
    expect(finished.stderr).not.toContain('s3cret');
    expect(finished.stderr).not.toMatch(/\n\s+at /);
  });

  it('with the SIP port taken exits 2 naming the address, not a stack trace', async () => {
    const taken = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const address = taken.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const finished = await runDrouter(['start'], {
        DROUTER_STORE__URL: `sqlite:${join(dir, 'taken.db')}`,
        DROUTER_ADMIN__PORT: String(await freePort()),
        DROUTER_SIP__PORT: String(port),
      }).finished;
      expect(finished.code).toBe(2);
      expect(finished.stderr).toContain(`DROUTER_ERR_SIP_BIND: cannot listen for SIP on 127.0.0.1:${port} (udp+tcp)`);
      expect(finished.stderr).not.toMatch(/\n\s+at /);
    } finally {
      taken.close();
    }
  });

  it('with a --config file that does not exist exits 2 naming it', async () => {
    const missing = join(dir, 'nope.yaml');
    const finished = await runDrouter(['start', '--config', missing], {}).finished;
    expect(finished.code).toBe(2);
    expect(finished.stderr).toContain(`--config = "${missing}"`);
  });

  it('with an unreachable database exits 2 with the URL, password hidden, and no stack trace', async () => {
    const finished = await runDrouter(['start'], {
      DROUTER_STORE__URL: 'mysql://root:pw1234@127.0.0.1:1/test',
      DROUTER_ADMIN__PORT: String(await freePort()),
      DROUTER_SIP__PORT: String(await freePort()),
    }).finished;
    expect(finished.code).toBe(2);
    expect(finished.stderr).toContain(
      'DROUTER_ERR_STORE_UNREACHABLE: cannot reach the store at mysql://root:***@127.0.0.1:1/test',
    );
    expect(finished.stderr).not.toContain('pw1234');
    expect(finished.stderr).not.toMatch(/\n\s+at /);
  });

  it('a first start whose routing data does not build exits 2 listing every error', async () => {
    const env = { DROUTER_STORE__URL: `sqlite:${join(dir, 'bad.db')}` };
    expect((await runDrouter(['seed'], env).finished).code).toBe(0);
    const db = new Database(join(dir, 'bad.db'));
    db.exec(
      "UPDATE dr_gateways SET strip = 'abc' WHERE gwid = '2'; UPDATE dr_rules SET priority = 'x' WHERE ruleid = 1",
    );
    db.close();
    const finished = await runDrouter(['start'], {
      ...env,
      DROUTER_ADMIN__PORT: String(await freePort()),
      DROUTER_SIP__PORT: String(await freePort()),
    }).finished;
    expect(finished.code).toBe(2);
    expect(finished.stderr).toContain('DROUTER_ERR_ROUTING: routing data has 2 errors:');
    expect(finished.stderr).toContain('dr_gateways row id=2 (gwid "2"): column strip = "abc": is not an integer');
    expect(finished.stderr).toContain('dr_rules row ruleid=1: column priority = "x": is not an integer');
  });

  it('with routing.strict a first start whose data has a row OpenSIPS would skip exits 2 naming it', async () => {
    const env = { DROUTER_STORE__URL: `sqlite:${join(dir, 'strict.db')}` };
    expect((await runDrouter(['seed'], env).finished).code).toBe(0);
    const db = new Database(join(dir, 'strict.db'));
    db.exec("UPDATE dr_gateways SET probe_mode = 5 WHERE gwid = '2'");
    db.close();
    const finished = await runDrouter(['start'], {
      ...env,
      DROUTER_ROUTING__STRICT: 'true',
      DROUTER_ADMIN__PORT: String(await freePort()),
      DROUTER_SIP__PORT: String(await freePort()),
    }).finished;
    expect(finished.code).toBe(2);
    expect(finished.stderr).toContain('DROUTER_ERR_ROUTING: routing data has 1 error:');
    expect(finished.stderr).toContain(
      'dr_gateways row id=2 (gwid "2"): column probe_mode = 5: allowed: 0 (never probe), 1 (probe while disabled), 2 (always probe): row skipped',
    );
  });

  it('drouter migrate creates the schema and drouter seed loads the example once', async () => {
    const env = { DROUTER_STORE__URL: `sqlite:${join(dir, 'm.db')}` };
    const migrated = await runDrouter(['migrate'], env).finished;
    expect(migrated).toMatchObject({ code: 0 });
    expect(migrated.stdout).toContain(
      'is up to date (tables created: version, dr_gateways, dr_rules, dr_carriers, dr_groups, dr_gw_lists, sippeers, drouter_shared, address)',
    );
    const seeded = await runDrouter(['seed'], env).finished;
    expect(seeded.code).toBe(0);
    expect(seeded.stdout).toContain('example data loaded: 2 gateways');
    const again = await runDrouter(['seed'], env).finished;
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('DROUTER_ERR_SEED');
  });

  itUnless(mysqlMissing())('on MariaDB reports a lost database on /health with 503 and keeps running', async () => {
    const mysql = databaseKinds().find((kind) => kind.name === 'mysql');
    if (!mysql) throw new Error('no mysql kind');
    const db = await mysql.create('health');
    const target = new URL(db.url);
    const relay = await startTcpRelay(target.hostname, Number(target.port || 3306));
    try {
      target.host = `127.0.0.1:${relay.port}`;
      const port = await freePort();
      const run = runDrouter(['start'], {
        DROUTER_STORE__URL: target.toString(),
        DROUTER_ADMIN__PORT: String(port),
        DROUTER_SIP__PORT: String(await freePort()),
      });
      await waitForOutput(run, /drouter started/);
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);

      await relay.cut();
      const response = await fetch(`http://127.0.0.1:${port}/health`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as { status: string; store: { ok: boolean; error: string } };
      expect(body.status).toBe('degraded');
      expect(body.store.ok).toBe(false);
      expect(body.store.error).toContain('cannot reach the store at mysql://');
      expect(run.child.exitCode).toBeNull();

      run.child.kill('SIGTERM');
      expect((await run.finished).code).toBe(0);
    } finally {
      await relay.close();
      await db.drop();
    }
  });
});
