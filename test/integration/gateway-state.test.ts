import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execSql } from '../support/sqlite-file.js';
import type { Cache } from '../../src/cache/cache.js';
import { openCache } from '../../src/cache/open-cache.js';
import { configSchema } from '../../src/config/schema.js';
import { type GatewayStateObserver, GatewayStateService } from '../../src/probe/gateway-state-service.js';
import { routingServiceOptions } from '../../src/routing/core/routing-options.js';
import { RoutingService } from '../../src/routing/routing-service.js';
import type { Gateway, GatewayState } from '../../src/routing/core/routing-table.js';
import type { KnexStore } from '../../src/store/knex/knex-store.js';
import { prepareStore } from '../../src/store/knex/open-store.js';
import { captureLog } from '../support/log-capture.js';
import { describeUnless, redisMissing } from '../support/skip-reason.js';

const REDIS_TEST_URL = process.env.DROUTER_TEST_REDIS_URL;
const AT = new Date('2026-11-26T10:00:00Z');

/** Records what the metrics would be told. */
function recordingObserver() {
  const observed = new Map<string, GatewayState>();
  const changes: string[] = [];
  const forgotten: string[] = [];
  const observer: GatewayStateObserver = {
    gatewayState: (gwid, state) => void observed.set(gwid, state),
    gatewayStateChanged: (gwid, state) => void changes.push(`${gwid}→${state}`),
    forgetGateway: (gwid) => void forgotten.push(gwid),
  };
  return { observer, observed, changes, forgotten };
}

describe('gateway state service on SQLite and the memory cache', () => {
  let dir: string;
  let file: string;
  let store: KnexStore;
  let cache: Cache;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'drouter-gwstate-'));
    file = join(dir, 'drouter.db');
    store = (await prepareStore(`sqlite:${file}`, { seedExample: true })).store;
    cache = await openCache('memory');
  });
  afterEach(async () => {
    await cache.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function stateColumn(gwid: string): number {
    const db = new Database(file, { readonly: true });
    try {
      return (db.prepare('SELECT state FROM dr_gateways WHERE gwid = ?').get(gwid) as { state: number }).state;
    } finally {
      db.close();
    }
  }

  async function start(options: { persistState?: boolean; cacheOf?: Cache } = {}) {
    const recorded = recordingObserver();
    const captured = captureLog();
    const probe = configSchema.parse({
      probe: { persistState: options.persistState ?? true, persistIntervalMs: 100 },
    }).probe;
    const states = new GatewayStateService({
      cache: options.cacheOf ?? cache,
      store,
      clock: { now: () => AT },
      log: captured.log,
      observer: recorded.observer,
      options: probe,
    });
    const routing = new RoutingService(
      store,
      routingServiceOptions(configSchema.parse({}).routing, 'UTC', configSchema.parse({}).sip),
      { now: () => AT },
      { gatewayState: states.stateOf },
    );
    await routing.load();
    await states.adopt(routing.current.destinations, { inheritState: true });
    const gateway = (gwid: string): Gateway => {
      const found = routing.current.destinations.gateways.get(gwid);
      if (!found) throw new Error(`no gateway ${gwid}`);
      return found;
    };
    return { states, routing, gateway, ...recorded, captured };
  }

  it('starts from dr_gateways.state, or every gateway active with persistState off', async () => {
    execSql(file, "UPDATE dr_gateways SET state = 1 WHERE gwid = '2'");
    const persisted = await start();
    expect(persisted.states.stateOf(persisted.gateway('2'))).toBe('admin-disabled');
    expect(persisted.states.healthOf('2')?.reason).toBe('dr_gateways.state is 1');
    await persisted.states.stop();

    const fresh = await openCache('memory');
    const notPersisted = await start({ persistState: false, cacheOf: fresh });
    expect(notPersisted.states.stateOf(notPersisted.gateway('2'))).toBe('active');
    await notPersisted.states.stop();
    await fresh.close();
  });

  it('routes around a gateway the state says is down, at once', async () => {
    const { states, routing, gateway } = await start();
    expect(routing.route({ number: '01144', group: 0 }).targets.map((t) => t.gateway.gwid)).toEqual(['1', '2']);
    await states.apply(gateway('1'), { kind: 'probe-timeout', timeoutMs: 2000 });
    expect(routing.route({ number: '01144', group: 0 }).targets.map((t) => t.gateway.gwid)).toEqual(['2']);
    await states.stop();
  });

  it('records a change everywhere: history with its reason, observer, log line, and dr_gateways.state in a batch', async () => {
    const { states, gateway, changes, captured } = await start();
    const change = await states.apply(gateway('1'), { kind: 'probe-reply', status: 503, rttMs: 4 });
    expect(change).toEqual({
      gwid: '1',
      from: 'active',
      to: 'probing-disabled',
      reason: 'probe answered 503 (not 200 or in probe.replyCodes)',
      at: AT.getTime(),
    });
    expect(await states.history(10)).toEqual([change]);
    expect(changes).toEqual(['1→probing-disabled']);
    expect(captured.messages()).toContain(
      'gateway 1: active → probing-disabled (probe answered 503 (not 200 or in probe.replyCodes))',
    );
    expect(await states.apply(gateway('1'), { kind: 'probe-reply', status: 503, rttMs: 4 })).toBeUndefined();
    expect(stateColumn('1')).toBe(0);
    states.startPersisting();
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(stateColumn('1')).toBe(2);
    await states.apply(gateway('1'), { kind: 'admin', enable: false });
    await states.stop();
    expect(stateColumn('1')).toBe(1);
  });

  it('keeps live states over a reload by default; inheritState false takes the column; removed gateways are forgotten', async () => {
    const { states, routing, gateway, forgotten } = await start();
    await states.apply(gateway('1'), { kind: 'probe-timeout', timeoutMs: 2000 });
    execSql(
      file,
      "UPDATE dr_gateways SET state = 0 WHERE gwid = '1'; DELETE FROM dr_gateways WHERE gwid = '2'; UPDATE dr_gw_lists SET gwlist = '1'; INSERT INTO dr_gateways (gwid, address, state) VALUES ('3', '127.0.0.4', 1)",
    );
    expect((await routing.reload()).ok).toBe(true);
    await states.adopt(routing.current.destinations, { inheritState: true });
    expect(states.stateOf(gateway('1'))).toBe('probing-disabled');
    expect(states.stateOf(gateway('3'))).toBe('admin-disabled');
    expect(states.healthOf('2')).toBeUndefined();
    expect(forgotten).toEqual(['2']);
    expect([...(await cache.getGatewayHealth()).keys()].sort()).toEqual(['1', '3']);

    await states.adopt(routing.current.destinations, { inheritState: false });
    expect(states.stateOf(gateway('1'))).toBe('active');
    expect((await states.history(1))[0]).toMatchObject({
      gwid: '1',
      from: 'probing-disabled',
      to: 'active',
      reason: 'dr_gateways.state is 0',
    });
    await states.stop();
  });

  it('keeps its own state right when the cache is gone, and says so', async () => {
    const { states, routing, gateway, captured } = await start();
    await cache.close();
    const change = await states.apply(gateway('1'), { kind: 'probe-timeout', timeoutMs: 2000 });
    expect(change?.to).toBe('probing-disabled');
    expect(routing.route({ number: '01144', group: 0 }).targets.map((t) => t.gateway.gwid)).toEqual(['2']);
    expect(
      captured
        .messages()
        .some((message) =>
          message.startsWith('gateway state not shared (setGatewayHealth): the cache at memory did not answer'),
        ),
    ).toBe(true);
    await states.stop();
  });

  describeUnless(redisMissing())('with two nodes on one Redis', () => {
    it("sees the other node's change after a refresh, and starts from it", async () => {
      const prefix = `sipdr-test:${process.pid}:gwstate:`;
      const cacheA = await openCache(REDIS_TEST_URL ?? '', { keyPrefix: prefix });
      const cacheB = await openCache(REDIS_TEST_URL ?? '', { keyPrefix: prefix });
      try {
        const a = await start({ cacheOf: cacheA });
        const b = await start({ cacheOf: cacheB });
        await a.states.apply(a.gateway('2'), { kind: 'admin', enable: false });
        expect(b.states.stateOf(b.gateway('2'))).toBe('active');
        await b.states.refresh();
        expect(b.states.stateOf(b.gateway('2'))).toBe('admin-disabled');
        expect((await b.states.history(1))[0]).toMatchObject({
          gwid: '2',
          to: 'admin-disabled',
          reason: 'disabled by admin',
        });
        // A node that starts (or restarts) takes the shared state, not its column.
        const c = await start({ cacheOf: cacheB });
        expect(c.states.stateOf(c.gateway('2'))).toBe('admin-disabled');
        for (const node of [a, b, c]) await node.states.stop();
      } finally {
        await cacheA.deleteGatewayHealth(['1', '2']);
        await cacheA.close();
        await cacheB.close();
      }
    });
  });
});
