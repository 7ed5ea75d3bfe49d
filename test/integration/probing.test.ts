import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execSql } from '../support/sqlite-file.js';
import { finalResponse, inviteFrom } from '../support/calling-phone.js';
import { startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { parseExposition, sampleValue } from '../support/exposition.js';
import { statusOf } from '../support/registering-phone.js';
import { ScriptedGateway } from '../support/scripted-gateway.js';
import { UdpPeer } from '../support/udp-peer.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Probing on the example data with real OPTIONS: the proxy on 127.0.0.90,
 * gateways 1 and 2 moved to 127.0.0.91 and 127.0.0.92 (stand-in Asterisks
 * answering OPTIONS as each test sets), a phone on 127.0.0.93. Probes
 * every 200 ms, 300 ms timeout, 404 counted as alive (Asterisk's answer to
 * an OPTIONS without user).
 */
const PROXY = '127.0.0.90';
const INTERVAL_MS = 200;

interface GatewayJson {
  gwid: string;
  state: string;
  reason: string | null;
  lastRttMs: number | null;
}

describe('gateway probing, live state and the admin API', () => {
  let server: TestServer;
  let gateway1: ScriptedGateway;
  let gateway2: ScriptedGateway;
  let phone: UdpPeer;

  async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${server.server.adminUrl}${path}`, {
      method,
      // Every POST is declared JSON, one without a body too (the admin API refuses it otherwise: 415).
      ...(method === 'POST' ? { headers: { 'content-type': 'application/json' } } : {}),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: (response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T,
    };
  }

  async function gatewayState(gwid: string): Promise<GatewayJson> {
    const { body } = await api<GatewayJson[]>('GET', '/gateways');
    const found = body.find((gateway) => gateway.gwid === gwid);
    if (!found) throw new Error(`no gateway ${gwid} in GET /gateways`);
    return found;
  }

  /** Polls GET /gateways until `gwid` is in `state`; returns how long it took. */
  async function waitForState(gwid: string, state: string, withinMs = 5 * INTERVAL_MS): Promise<number> {
    const started = Date.now();
    let seen: unknown;
    await waitFor(
      `gateway ${gwid} to become ${state}`,
      withinMs,
      async () => {
        const now = await gatewayState(gwid);
        seen = now;
        return now.state === state ? true : undefined;
      },
      { pollMs: 25, rethrow: true, detail: () => `it is ${JSON.stringify(seen)}` },
    );
    return Date.now() - started;
  }

  async function metrics() {
    return parseExposition((await api<string>('GET', '/metrics')).body);
  }

  beforeAll(async () => {
    server = await startTestServer(PROXY, {
      probe: { enabled: true, intervalMs: INTERVAL_MS, timeoutMs: 300, replyCodes: [404], persistIntervalMs: 100 },
      proxy: { timeoutMs: 800 },
    });
    gateway1 = await ScriptedGateway.start('127.0.0.91');
    gateway2 = await ScriptedGateway.start('127.0.0.92');
    phone = await UdpPeer.bind('127.0.0.93');
    execSql(
      server.storeFile,
      "UPDATE dr_gateways SET address = '127.0.0.91:5060' WHERE gwid = '1'; UPDATE dr_gateways SET address = '127.0.0.92:5060' WHERE gwid = '2'",
    );
    expect((await api<{ ok: boolean }>('POST', '/reload', {})).body.ok).toBe(true);
  });
  afterAll(async () => {
    phone?.close();
    gateway1?.close();
    gateway2?.close();
    await server?.close();
  });
  beforeEach(async () => {
    gateway1.optionsReply = 200;
    gateway2.optionsReply = 200;
    gateway1.script = 'answer';
    gateway2.script = 'answer';
    await api('POST', '/probing', { on: true });
    await api('POST', '/gateways/1/enable');
    await api('POST', '/gateways/2/enable');
    // Probes sent before (to the old addresses, or a test's dead gateway) may still land: start from both up.
    await waitForState('1', 'active', 2000);
    await waitForState('2', 'active', 2000);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await waitForState('1', 'active', 2000);
    await waitForState('2', 'active', 2000);
  });

  it('takes a gateway that stops answering down within an interval, sends calls straight to the next, and brings it back', async () => {
    await waitForState('1', 'active');
    gateway1.optionsReply = 'silent';
    // One interval to the next probe, then its timeout.
    expect(await waitForState('1', 'probing-disabled', INTERVAL_MS + 300 + 400)).toBeLessThan(INTERVAL_MS + 300 + 400);
    expect((await gatewayState('1')).reason).toBe('no answer to the probe within 300 ms');
    expect(sampleValue(await metrics(), 'sipdr_gateway_up', { gateway: '1' })).toBe(0);

    gateway1.received.length = 0;
    const call = inviteFrom(phone, PROXY, '01144201234567');
    const sentAt = Date.now();
    phone.send(call.invite, server.sip);
    expect(statusOf(await finalResponse(phone, call))).toBe(200);
    // No wait for gateway 1's timeout (proxy.timeoutMs 800): it was skipped.
    expect(Date.now() - sentAt).toBeLessThan(500);
    expect(gateway1.requests('INVITE')).toHaveLength(0);

    gateway1.optionsReply = 200;
    await waitForState('1', 'active', 3 * INTERVAL_MS);
    expect((await gatewayState('1')).reason).toBe('probe answered 200');
    expect(sampleValue(await metrics(), 'sipdr_gateway_up', { gateway: '1' })).toBe(1);
  });

  it('counts 503 as dead and a listed 404 as alive', async () => {
    gateway2.optionsReply = 503;
    await waitForState('2', 'probing-disabled');
    expect((await gatewayState('2')).reason).toBe('probe answered 503 (not 200 or in probe.replyCodes)');
    gateway2.optionsReply = 404;
    await waitForState('2', 'active');
    expect((await gatewayState('2')).reason).toBe('probe answered 404');
    expect((await gatewayState('2')).lastRttMs).toBeLessThan(300);
  });

  it('keeps an admin-disabled gateway down through good probes and stops probing it', async () => {
    const disabled = await api<GatewayJson>('POST', '/gateways/1/disable');
    expect(disabled.body).toMatchObject({ gwid: '1', state: 'admin-disabled', reason: 'disabled by admin' });
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
    gateway1.received.length = 0;
    await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL_MS));
    expect(gateway1.requests('OPTIONS')).toHaveLength(0);
    expect((await gatewayState('1')).state).toBe('admin-disabled');
    const route = await api<{ destinations: { gwid: string; usable: boolean; skipped: string | null }[] }>(
      'GET',
      '/route?number=01144201234567&group=0',
    );
    expect(route.body.destinations.map((d) => [d.gwid, d.usable, d.skipped])).toEqual([
      ['1', false, 'disabled by admin'],
      ['2', true, null],
    ]);
    expect((await api<GatewayJson>('POST', '/gateways/1/enable')).body.state).toBe('active');
  });

  it('probes a probe_mode 0 gateway never, a probe_mode 1 gateway only while it is down', async () => {
    execSql(
      server.storeFile,
      "UPDATE dr_gateways SET probe_mode = 0 WHERE gwid = '1'; UPDATE dr_gateways SET probe_mode = 1, state = 2 WHERE gwid = '2'",
    );
    try {
      expect((await api<{ ok: boolean }>('POST', '/reload', { inheritState: false })).body.ok).toBe(true);
      expect((await gatewayState('2')).state).toBe('probing-disabled');
      gateway1.received.length = 0;
      await waitForState('2', 'active', 3 * INTERVAL_MS);
      gateway2.received.length = 0;
      await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL_MS));
      expect(gateway1.requests('OPTIONS')).toHaveLength(0);
      expect(gateway2.requests('OPTIONS')).toHaveLength(0);
    } finally {
      execSql(server.storeFile, "UPDATE dr_gateways SET probe_mode = 2, state = 0 WHERE gwid IN ('1', '2')");
      expect((await api<{ ok: boolean }>('POST', '/reload', { inheritState: false })).body.ok).toBe(true);
    }
  });

  it('stops and resumes probing with the run-time switch', async () => {
    expect((await api('POST', '/probing', { on: false })).body).toEqual({ probing: false });
    expect((await api('GET', '/probing')).body).toEqual({ probing: false });
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
    gateway1.received.length = 0;
    await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL_MS));
    expect(gateway1.requests('OPTIONS')).toHaveLength(0);
    await api('POST', '/probing', { on: true });
    await new Promise((resolve) => setTimeout(resolve, 2 * INTERVAL_MS));
    expect(gateway1.requests('OPTIONS').length).toBeGreaterThan(0);
  });

  it('writes state changes to dr_gateways.state, and lists them with reasons in GET /events', async () => {
    gateway2.optionsReply = 500;
    await waitForState('2', 'probing-disabled');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const db = new Database(server.storeFile, { readonly: true });
    try {
      expect(db.prepare("SELECT state FROM dr_gateways WHERE gwid = '2'").get()).toEqual({ state: 2 });
    } finally {
      db.close();
    }
    const events = (
      await api<{ gwid: string; from: string; to: string; reason: string; at: string }[]>('GET', '/events?limit=5')
    ).body;
    expect(events[0]).toMatchObject({
      gwid: '2',
      from: 'active',
      to: 'probing-disabled',
      reason: 'probe answered 500 (not 200 or in probe.replyCodes)',
    });
    expect(Date.now() - Date.parse(events[0]?.at ?? '')).toBeLessThan(5000);
    expect(events.length).toBeLessThanOrEqual(5);
  });

  it('serves metrics in the Prometheus text format with probe, SIP and reload figures', async () => {
    const call = inviteFrom(phone, PROXY, '01144201234567');
    phone.send(call.invite, server.sip);
    expect(statusOf(await finalResponse(phone, call))).toBe(200);
    const families = await metrics();
    expect(sampleValue(families, 'sipdr_gateway_state', { gateway: '2', state: 'active' })).toBe(1);
    expect(sampleValue(families, 'sipdr_gateway_state', { gateway: '2', state: 'admin-disabled' })).toBe(0);
    expect(sampleValue(families, 'sipdr_probe_rtt_seconds_count', { gateway: '1' })).toBeGreaterThan(0);
    expect(sampleValue(families, 'sipdr_sip_requests_total', { method: 'INVITE' })).toBeGreaterThan(0);
    expect(sampleValue(families, 'sipdr_sip_responses_total', { method: 'INVITE', code: '200' })).toBeGreaterThan(0);
    expect(sampleValue(families, 'sipdr_routing_decisions_total', { outcome: 'routed' })).toBeGreaterThan(0);
    expect(sampleValue(families, 'sipdr_reloads_total', { result: 'ok' })).toBeGreaterThan(0);
    expect(sampleValue(families, 'sipdr_bindings')).toBe(0);
  });

  it('never has two probes out to one gateway: a silent one gets one transaction at a time', async () => {
    await api('POST', '/gateways/1/disable');
    gateway2.optionsReply = 'silent';
    gateway2.received.length = 0;
    // Three intervals while each probe takes 300 ms to time out: at most one new transaction per interval, never overlapping.
    await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL_MS));
    const branches = new Set(gateway2.requests('OPTIONS').map((request) => request.headers.via?.[0]?.params.branch));
    expect(branches.size).toBeGreaterThanOrEqual(1);
    expect(branches.size).toBeLessThanOrEqual(2);
  });

  it('counts a failover away from a gateway, and answers GET /gateways/:gwid, GET /reload and /health', async () => {
    gateway1.script = 'unavailable';
    const before = sampleValue(await metrics(), 'sipdr_failovers_total', { gateway: '1' }) ?? 0;
    const call = inviteFrom(phone, PROXY, '01144201234567');
    phone.send(call.invite, server.sip);
    expect(statusOf(await finalResponse(phone, call))).toBe(200);
    // On the drachtio engine the attempts' report, which the count reads, may come just after the 200 reached the phone.
    const counted = await waitFor('the failover counted', 2000, async () => {
      const value = sampleValue(await metrics(), 'sipdr_failovers_total', { gateway: '1' }) ?? before;
      return value === before ? undefined : value;
    });
    expect(counted).toBe(before + 1);

    expect((await api<GatewayJson>('GET', '/gateways/2')).body).toMatchObject({ gwid: '2', state: 'active' });
    const reload = (
      await api<{ ok: boolean; generation: number; counts: { gateways: number }; errors: string[] }>('GET', '/reload')
    ).body;
    expect(reload).toMatchObject({ ok: true, counts: { gateways: 2 }, errors: [] });
    expect(reload.generation).toBeGreaterThanOrEqual(2);
    expect((await api('GET', '/health')).body).toMatchObject({
      status: 'ok',
      store: { ok: true },
      cache: { ok: true, url: 'memory' },
      sip: { ok: true, engine: testEngine },
    });
  });

  it('answers unknown gateways and bad input with coded JSON errors', async () => {
    expect(await api('POST', '/gateways/nope/disable')).toEqual({
      status: 404,
      body: { error: { code: 'DROUTER_ERR_NOT_FOUND', message: 'no gateway with gwid "nope" in the routing data' } },
    });
    expect(await api('GET', '/route?number=011&at=tomorrow')).toMatchObject({
      status: 400,
      body: { error: { code: 'DROUTER_ERR_USAGE' } },
    });
    expect(await api('POST', '/probing', { on: 'yes' })).toMatchObject({
      status: 400,
      body: { error: { code: 'DROUTER_ERR_USAGE' } },
    });
    expect(await api('GET', '/nothing-here')).toMatchObject({
      status: 404,
      body: { error: { code: 'DROUTER_ERR_NOT_FOUND' } },
    });
  });
});
