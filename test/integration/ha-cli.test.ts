import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheKeys } from '../../src/cache/keys.js';
import { type Finished, freePort, runDrouter } from '../support/drouter-process.js';
import { startTestServer, type TestServer } from '../support/drouter-server.js';
import { parseExposition, sampleValue } from '../support/exposition.js';
import { deleteKeys } from '../support/redis-keys.js';
import { startTcpRelay } from '../support/tcp-relay.js';
import { itUnless, redisMissing } from '../support/skip-reason.js';

/**
 * keepalived's commands against a running node: `ha notify` (its notify
 * script) decides whether the node contends for the leader lease, `ha
 * check` (its track_script) fails when the node cannot serve, `ha status`
 * shows the role. /health and /metrics show the role too.
 */
const REDIS_TEST_URL = process.env.DROUTER_TEST_REDIS_URL;

interface StatusJson {
  holder: string;
  role: 'leader' | 'standby';
  keepalived: string;
  leaseHolder: string | null;
}

const dir = mkdtempSync(join(tmpdir(), 'sipdr-ha-cli-'));
const servers: TestServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function node(address: string, overrides: Record<string, unknown>): Promise<TestServer> {
  const server = await startTestServer(address, overrides);
  servers.push(server);
  return server;
}

function cli(server: TestServer | string, env: Record<string, string> = {}) {
  const url = typeof server === 'string' ? server : server.server.adminUrl;
  return (...args: string[]): Promise<Finished> => runDrouter([...args, '--url', url], env).finished;
}

async function leaderGauge(server: TestServer): Promise<number | undefined> {
  const text = await (await fetch(`${server.server.adminUrl}/metrics`)).text();
  return sampleValue(parseExposition(text), 'sipdr_ha_leader');
}

describe('drouter ha notify, status and check', () => {
  it('a node under keepalived stands by until notified MASTER, leads at once when it is, and stands by again on BACKUP', async () => {
    const stateFile = join(dir, 'node-a.state');
    const server = await node('127.0.0.90', { ha: { keepalivedStateFile: stateFile, nodeName: 'node-a' } });
    const drouter = cli(server, { DROUTER_HA__KEEPALIVED_STATE_FILE: stateFile });
    const status = async () => JSON.parse((await drouter('ha', 'status', '--json')).stdout) as StatusJson;

    expect(await status()).toMatchObject({
      role: 'standby',
      keepalived: 'unknown',
      leaseHolder: null,
      holder: expect.stringMatching(/^node-a\/\d+\/[0-9a-f]{6}$/) as unknown,
    });
    expect(await leaderGauge(server)).toBe(0);

    // keepalived's generic notify script form: TYPE NAME STATE PRIORITY.
    const master = await drouter('ha', 'notify', 'INSTANCE', 'VI_SIP', 'MASTER', '100');
    expect(master.code).toBe(0);
    expect(master.stdout).toMatch(
      new RegExp(
        `^keepalived MASTER recorded in ${stateFile}; node-a/\\d+/[0-9a-f]{6}: leader \\(token \\d+\\); keepalived MASTER; lease held by node-a/`,
      ),
    );
    expect(readFileSync(stateFile, 'utf8')).toBe('MASTER\n');
    expect(await status()).toMatchObject({ role: 'leader', keepalived: 'MASTER' });
    expect(await leaderGauge(server)).toBe(1);
    const health = (await (await fetch(`${server.server.adminUrl}/health`)).json()) as { ha: StatusJson };
    expect(health.ha).toMatchObject({ role: 'leader', keepalived: 'MASTER' });

    const backup = await drouter('ha', 'notify', 'backup');
    expect(backup.code).toBe(0);
    expect(await status()).toMatchObject({ role: 'standby', keepalived: 'BACKUP', leaseHolder: null });
    expect(await leaderGauge(server)).toBe(0);
  });

  it('notify with no node running records the state, says so, and the node started later leads from the file', async () => {
    const stateFile = join(dir, 'node-b.state');
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const notified = await cli(nowhere, { DROUTER_HA__KEEPALIVED_STATE_FILE: stateFile })('ha', 'notify', 'MASTER');
    expect(notified.code).toBe(0);
    expect(notified.stderr).toMatch(
      /keepalived MASTER recorded in .*node-b\.state; the node does not answer .*: it reads the file when it starts/,
    );
    const server = await node('127.0.0.91', { ha: { keepalivedStateFile: stateFile } });
    expect(JSON.parse((await cli(server)('ha', 'status', '--json')).stdout)).toMatchObject({
      role: 'leader',
      keepalived: 'MASTER',
    });
  });

  it('notify refuses a configuration without ha.keepalivedStateFile and a state keepalived does not have: exit 2', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const unset = await cli(nowhere)('ha', 'notify', 'MASTER');
    expect(unset.code).toBe(2);
    expect(unset.stderr).toMatch(/DROUTER_ERR_USAGE: ha\.keepalivedStateFile is not set/);
    const bad = await cli(nowhere, { DROUTER_HA__KEEPALIVED_STATE_FILE: join(dir, 'never') })(
      'ha',
      'notify',
      'PRIMARY',
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/keepalived state "PRIMARY": expected one of MASTER, BACKUP, FAULT, STOP/);
  });

  it('check: exit 0 on a healthy node, 3 where no node answers', async () => {
    const server = await node('127.0.0.92', {});
    const healthy = await cli(server)('ha', 'check');
    expect(healthy.code).toBe(0);
    // The engine's address: ours on the native engine, drachtio-server's contact on the drachtio engine.
    const listening = `${server.sip.address}:${server.sip.port}`.replace(/\./g, '\\.');
    expect(healthy.stdout).toMatch(
      new RegExp(
        `^healthy: SIP udp\\+tcp ${listening}, store and cache answer; .*: leader \\(token \\d+\\); keepalived unknown`,
      ),
    );
    const gone = await cli(`http://127.0.0.1:${await freePort()}`)('ha', 'check');
    expect(gone.code).toBe(3);
    expect(gone.stderr).toMatch(/DROUTER_ERR_ADMIN_UNREACHABLE/);
  });

  itUnless(redisMissing())('check: exit 1 naming the cache when the node loses its Redis', async () => {
    const redis = new URL(REDIS_TEST_URL ?? '');
    const relay = await startTcpRelay(redis.hostname, Number(redis.port || 6379));
    const prefix = `sipdr-test:${process.pid}:ha-check:`;
    try {
      const server = await node('127.0.0.93', {
        cache: { url: `redis://127.0.0.1:${relay.port}${redis.pathname}`, keyPrefix: prefix },
      });
      expect((await cli(server)('ha', 'check')).code).toBe(0);
      await relay.cut();
      const sick = await cli(server)('ha', 'check');
      expect(sick.code).toBe(1);
      expect(sick.stdout).toMatch(/^unhealthy: cache the cache at redis:\/\/127\.0\.0\.1:\d+\/\d+ did not answer ping/);
    } finally {
      await relay.close();
      await deleteKeys(REDIS_TEST_URL ?? '', cacheKeys(prefix).all);
    }
  });
});
