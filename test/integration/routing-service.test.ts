import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execSql } from '../support/sqlite-file.js';
import { configSchema } from '../../src/config/schema.js';
import { RoutingDataError } from '../../src/errors.js';
import { routingServiceOptions } from '../../src/routing/core/routing-options.js';
import { RoutingService } from '../../src/routing/routing-service.js';
import type { KnexStore } from '../../src/store/knex/knex-store.js';
import { prepareStore } from '../../src/store/knex/open-store.js';

const AT = new Date('2026-11-26T10:00:00Z');

describe('routing service on a real SQLite store', () => {
  let dir: string;
  let file: string;
  let store: KnexStore;
  let routing: RoutingService;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'drouter-routing-'));
    file = join(dir, 'drouter.db');
    store = (await prepareStore(`sqlite:${file}`, { seedExample: true })).store;
    const config = configSchema.parse({});
    routing = new RoutingService(store, routingServiceOptions(config.routing, 'UTC', config.sip), { now: () => AT });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes gateway state from the function it was given: a down gateway is skipped', async () => {
    const down = new RoutingService(
      store,
      routingServiceOptions(configSchema.parse({}).routing, 'UTC', configSchema.parse({}).sip),
      { now: () => AT },
      {
        gatewayState: (gateway) => (gateway.gwid === '1' ? 'probing-disabled' : 'active'),
      },
    );
    await down.load();
    await routing.load();
    expect(routing.route({ number: '01144', group: 0 }).targets.map((target) => target.gateway.gwid)).toEqual([
      '1',
      '2',
    ]);
    expect(down.route({ number: '01144', group: 0 }).targets.map((target) => target.gateway.gwid)).toEqual(['2']);
  });

  it('a decision keeps the table it was made with; the reload swaps in a new one', async () => {
    await routing.load();
    const before = routing.current.destinations;
    const decision = routing.route({ number: '01144', group: 0 });
    execSql(file, "UPDATE dr_gateways SET address = '127.0.0.9:5080' WHERE gwid = '1'");
    await routing.reload();
    expect(routing.current.destinations).not.toBe(before);
    expect(decision.targets[0]?.uri).toBe('sip:01144@127.0.0.2:5060');
    expect(decision.targets[0]?.gateway).toBe(before.gateways.get('1'));
    expect(routing.route({ number: '01144', group: 0 }).targets[0]?.uri).toBe('sip:01144@127.0.0.9:5080');
  });

  it('a failed reload keeps generation and table; a first load that fails throws every error', async () => {
    await routing.load();
    const before = routing.current;
    execSql(file, "UPDATE dr_rules SET priority = 'x' WHERE ruleid = 2");
    const report = await routing.reload();
    expect(report.ok).toBe(false);
    expect(report.errors.map((e) => e.row)).toEqual(['ruleid=2']);
    expect(routing.current).toBe(before);

    const fresh = new RoutingService(
      store,
      routingServiceOptions(configSchema.parse({}).routing, 'UTC', configSchema.parse({}).sip),
      { now: () => AT },
    );
    await expect(fresh.load()).rejects.toBeInstanceOf(RoutingDataError);
  });

  it('runs concurrent reloads one after the other', async () => {
    await routing.load();
    const reports = await Promise.all([routing.reload(), routing.reload(), routing.reload()]);
    expect(reports.map((r) => r.generation)).toEqual([2, 3, 4]);
  });
});
