import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cacheKeys } from '../../src/cache/keys.js';
import { deleteKeys } from '../support/redis-keys.js';
import { DRACHTIO_BINARY, DrachtioServerProcess } from '../support/drachtio-server.js';
import { freePort, type RunningDrouter, runDrouter, waitForOutput } from '../support/drouter-process.js';
import { testEngine } from '../support/drouter-server.js';
import { waitFor } from '../support/wait-for.js';
import { describeUnless, redisMissing } from '../support/skip-reason.js';

const REDIS_TEST_URL = process.env.DROUTER_TEST_REDIS_URL;

interface Node {
  run: RunningDrouter;
  admin: string;
}

/**
 * On drachtio each node has a drachtio-server of its own, on the node's SIP
 * address, as a pair runs in production (DROUTER_TEST_DRACHTIO_BINARY; the
 * file is skipped without it). It outlives a restart of its node.
 */
const ownDrachtio = testEngine === 'drachtio';
const drachtioServers = new Map<string, DrachtioServerProcess>();

async function drachtioEnv(sipAddress: string): Promise<Record<string, string>> {
  if (!ownDrachtio) return {};
  let server = drachtioServers.get(sipAddress);
  if (!server) {
    server = new DrachtioServerProcess(DRACHTIO_BINARY ?? '', {
      adminPort: await freePort(),
      secret: 'pair-secret',
      sipAddress,
      sipPort: 5060,
    });
    await server.start();
    drachtioServers.set(sipAddress, server);
  }
  const { adminPort, secret } = server.options;
  return {
    DROUTER_SIP__ENGINE: 'drachtio',
    DROUTER_SIP__DRACHTIO__PORT: String(adminPort),
    DROUTER_SIP__DRACHTIO__SECRET: secret,
  };
}

/**
 * Two `drouter start` processes sharing one database and one Redis, as the
 * nodes of a pair do: what an operator or the prober changes on one, the
 * other routes by within the refresh second.
 */
describeUnless(
  redisMissing() ||
    (ownDrachtio && !DRACHTIO_BINARY ? 'DROUTER_TEST_DRACHTIO_BINARY names no drachtio-server for each node' : ''),
)(`two server processes on one Redis (${testEngine} engine)`, () => {
  const prefix = `sipdr-test:${process.pid}:pair:`;
  let dir: string;
  const nodes: Node[] = [];

  async function startNode(sipAddress: string): Promise<Node> {
    const adminPort = await freePort();
    const run = runDrouter(['start'], {
      ...(await drachtioEnv(sipAddress)),
      DROUTER_STORE__URL: `sqlite:${join(dir, 'drouter.db')}`,
      DROUTER_CACHE__URL: REDIS_TEST_URL ?? '',
      DROUTER_CACHE__KEY_PREFIX: prefix,
      DROUTER_SIP__ADDRESS: sipAddress,
      DROUTER_SIP__PORT: String(await freePort()),
      DROUTER_ADMIN__PORT: String(adminPort),
      DROUTER_PROBE__ENABLED: 'false',
    });
    await waitForOutput(run, /drouter started/);
    const node = { run, admin: `http://127.0.0.1:${adminPort}` };
    // Each node serves SIP on its own address: its own socket, or its own drachtio-server's contact.
    expect(await call(node, 'GET', '/health')).toMatchObject({
      sip: { ok: true, engine: testEngine, listening: expect.stringContaining(`${sipAddress}:`) as unknown },
    });
    return node;
  }

  async function call<T>(node: Node, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${node.admin}${path}`, {
      method,
      // Every POST is declared JSON, one without a body too (the admin API refuses it otherwise: 415).
      ...(method === 'POST' ? { headers: { 'content-type': 'application/json' } } : {}),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await response.json()) as T;
  }

  async function stateOn(node: Node, gwid: string): Promise<string | undefined> {
    return (await call<{ gwid: string; state: string }[]>(node, 'GET', '/gateways')).find(
      (gateway) => gateway.gwid === gwid,
    )?.state;
  }

  async function waitForState(node: Node, gwid: string, state: string, withinMs = 3000): Promise<void> {
    let seen: string | undefined;
    await waitFor(
      `gateway ${gwid} to be ${state} on ${node.admin}`,
      withinMs,
      async () => ((seen = await stateOn(node, gwid)) === state ? true : undefined),
      {
        pollMs: 50,
        rethrow: true,
        detail: () => `it is ${seen}`,
      },
    );
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'drouter-pair-'));
    // The first node creates the schema and the example data; the second finds them.
    nodes.push(await startNode('127.0.0.100'));
    nodes.push(await startNode('127.0.0.101'));
  }, 40_000);

  afterAll(async () => {
    for (const node of nodes) {
      node.run.child.kill('SIGTERM');
      await node.run.finished;
    }
    for (const server of drachtioServers.values()) await server.close();
    drachtioServers.clear();
    await deleteKeys(REDIS_TEST_URL ?? '', cacheKeys(prefix).all);
    rmSync(dir, { recursive: true, force: true });
  });

  it("an admin change on one node is the other node's state and routing within a second, both ways", async () => {
    const [a, b] = nodes as [Node, Node];
    await call(a, 'POST', '/gateways/1/disable');
    await waitForState(b, '1', 'admin-disabled', 2500);
    const route = await call<{ destinations: { gwid: string; usable: boolean }[] }>(
      b,
      'GET',
      '/route?number=01144201234567&group=0',
    );
    expect(route.destinations.map((d) => [d.gwid, d.usable])).toEqual([
      ['1', false],
      ['2', true],
    ]);
    const events = await call<{ gwid: string; to: string; reason: string }[]>(b, 'GET', '/events?limit=1');
    expect(events[0]).toMatchObject({ gwid: '1', to: 'admin-disabled', reason: 'disabled by admin' });

    await call(b, 'POST', '/gateways/1/enable');
    await waitForState(a, '1', 'active', 2500);
  });

  it('shares the probing switch', async () => {
    const [a, b] = nodes as [Node, Node];
    expect(await call(b, 'GET', '/probing')).toEqual({ probing: false });
    await call(a, 'POST', '/probing', { on: true });
    expect(await call(b, 'GET', '/probing')).toEqual({ probing: true });
    await call(b, 'POST', '/probing', { on: false });
    expect(await call(a, 'GET', '/probing')).toEqual({ probing: false });
  });

  it('a node that restarts takes the shared state, not its start state', async () => {
    const [a] = nodes as [Node, Node];
    await call(a, 'POST', '/gateways/2/disable');
    const b = nodes[1] as Node;
    b.run.child.kill('SIGTERM');
    await b.run.finished;
    nodes[1] = await startNode('127.0.0.101');
    expect(await stateOn(nodes[1], '2')).toBe('admin-disabled');
    await call(a, 'POST', '/gateways/2/enable');
  });
});
