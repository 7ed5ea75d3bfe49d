import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/drouter-process.js';
import { startTestServer, type TestServer } from '../support/drouter-server.js';
import { execSql } from '../support/sqlite-file.js';

/**
 * OpenSIPS's MI over HTTP (POST /mi, JSON-RPC 2.0) on a started server
 * with the example data, over real HTTP as a script using mi_http sends
 * it: each drouting command, its effect read back through the admin API,
 * and who may call it (the admin API's guard).
 */

interface Reply {
  status: number;
  body: unknown;
}

async function post(
  base: string,
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<Reply> {
  const answer = await fetch(`${base}/mi`, { method: 'POST', headers, body, signal: AbortSignal.timeout(5000) });
  const text = await answer.text();
  return { status: answer.status, body: text === '' ? undefined : JSON.parse(text) };
}

/** One JSON-RPC call; the HTTP status must be mi_http's 200, the id the one sent. */
async function mi(base: string, method: string, params?: unknown, headers?: Record<string, string>): Promise<unknown> {
  const reply = await post(
    base,
    JSON.stringify({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }), id: 42 }),
    headers,
  );
  expect(reply.status).toBe(200);
  const { jsonrpc, id, ...outcome } = reply.body as Record<string, unknown>;
  expect([jsonrpc, id]).toEqual(['2.0', 42]);
  return outcome;
}

async function adminGet(base: string, path: string, token?: string): Promise<unknown> {
  const answer = await fetch(`${base}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: AbortSignal.timeout(5000),
  });
  expect(answer.status).toBe(200);
  return answer.json();
}

describe('OpenSIPS MI over HTTP on a running server (loopback, no token)', () => {
  let server: TestServer;
  let base: string;

  beforeAll(async () => {
    server = await startTestServer('127.0.0.252', { admin: { port: await freePort() } });
    base = server.server.adminUrl;
  });
  afterAll(async () => {
    await server.close();
  });

  it('dr_gw_status lists the gateways, disables one (read back from GET /gateways) and enables it again', async () => {
    expect(await mi(base, 'dr_gw_status')).toEqual({
      result: {
        Gateways: [
          { ID: '1', IP: '127.0.0.2:5060', State: 'Active' },
          { ID: '2', IP: '127.0.0.3:5060', State: 'Active' },
        ],
      },
    });
    expect(await mi(base, 'dr_gw_status', { gw_id: '1', status: 0 })).toEqual({ result: 'OK' });
    expect(await adminGet(base, '/gateways/1')).toMatchObject({ state: 'admin-disabled', reason: 'disabled by admin' });
    expect(await mi(base, 'dr_gw_status', { gw_id: '1' })).toEqual({ result: { State: 'Disabled MI' } });
    expect(await mi(base, 'dr_gw_status', { gw_id: '1', status: '1' })).toEqual({ result: 'OK' });
    expect(await adminGet(base, '/gateways/1')).toMatchObject({ state: 'active' });
  });

  it('dr_reload takes new rows (a carrier, a gateway disabled by probing), which dr_carrier_status and dr_gw_status then show', async () => {
    execSql(
      server.storeFile,
      "INSERT INTO dr_carriers (carrierid, gwlist, flags, state, attrs) VALUES ('CR1', '2', 0, 1, 'tier=1'); INSERT INTO dr_gateways (gwid, type, address, strip, probe_mode, state) VALUES ('3', 1, '127.0.0.4:5060', 0, 0, 2)",
    );
    expect(await mi(base, 'dr_reload', { inherit_state: 'y' })).toEqual({ result: 'OK' });
    expect(await mi(base, 'dr_carrier_status')).toEqual({
      result: { Carriers: [{ ID: 'CR1', ATTRS: 'tier=1', Enabled: 'no ' }] },
    });
    expect(await mi(base, 'dr_gw_status', { gw_id: '3' })).toEqual({ result: { State: 'Inactive' } });
    expect(await mi(base, 'dr_carrier_status', { carrier_id: 'CR1', status: 1 })).toEqual({ result: 'OK' });
    expect(await adminGet(base, '/carriers')).toEqual([expect.objectContaining({ carrierid: 'CR1', enabled: true })]);
    expect(await mi(base, 'dr_reload_status')).toEqual({
      result: {
        Date: expect.stringMatching(/^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/) as unknown,
      },
    });
  });

  it('dr_number_routing answers the rule of the example data for an international number; "No match" in a group without rules', async () => {
    expect(await mi(base, 'dr_number_routing', { group_id: 0, number: '01144201230001' })).toEqual({
      result: { 'Matched Prefix': '011', 'GW List': [{ GATEWAY: '1' }, { GATEWAY: '2' }] },
    });
    expect(await mi(base, 'dr_number_routing', { group_id: 9, number: '01144201230001' })).toEqual({
      result: 'No match',
    });
  });

  it('dr_enable_probing turns the shared switch off and on (read back from GET /probing)', async () => {
    expect(await mi(base, 'dr_enable_probing')).toEqual({ result: { Status: 0 } });
    expect(await mi(base, 'dr_enable_probing', [1])).toEqual({ result: 'OK' });
    expect(await adminGet(base, '/probing')).toEqual({ probing: true });
    expect(await mi(base, 'dr_enable_probing', { status: 0 })).toEqual({ result: 'OK' });
    expect(await adminGet(base, '/probing')).toEqual({ probing: false });
  });

  it('answers as mi_http does what is not a call: -32700 for bad JSON, 202 for a notification, 405 for GET, 400 for an empty body', async () => {
    expect(await post(base, '{"jsonrpc":"2.0","method":')).toEqual({
      status: 200,
      body: { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null },
    });
    expect(await post(base, '{"jsonrpc":"2.0","method":"dr_gw_status","params":{"gw_id":"2","status":0}}')).toEqual({
      status: 202,
      body: undefined,
    });
    expect(await adminGet(base, '/gateways/2')).toMatchObject({ state: 'admin-disabled' });
    expect(await post(base, '')).toMatchObject({ status: 400 });
    expect((await fetch(`${base}/mi`, { signal: AbortSignal.timeout(5000) })).status).toBe(405);
  });

  it('refuses a cross-site text/plain POST with 415, as every mutation of the admin API, and changes nothing', async () => {
    const before = await adminGet(base, '/gateways/1');
    const reply = await post(
      base,
      JSON.stringify({ jsonrpc: '2.0', method: 'dr_gw_status', params: { gw_id: '1', status: 0 }, id: 1 }),
      { 'content-type': 'text/plain' },
    );
    expect(reply).toMatchObject({ status: 415, body: { error: { code: 'DROUTER_ERR_UNSUPPORTED_MEDIA_TYPE' } } });
    expect(await adminGet(base, '/gateways/1')).toEqual(before);
  });
});

describe('OpenSIPS MI over HTTP with admin.token', () => {
  const TOKEN = 'mi-token';
  let server: TestServer;
  let base: string;

  beforeAll(async () => {
    server = await startTestServer('127.0.0.253', { admin: { port: await freePort(), token: TOKEN } });
    base = server.server.adminUrl;
  });
  afterAll(async () => {
    await server.close();
  });

  it('refuses a call without the token or with a wrong one (401), changing nothing; with the token it runs', async () => {
    const disable = JSON.stringify({
      jsonrpc: '2.0',
      method: 'dr_gw_status',
      params: { gw_id: '1', status: 0 },
      id: 1,
    });
    expect(await post(base, disable)).toMatchObject({
      status: 401,
      body: { error: { code: 'DROUTER_ERR_UNAUTHORIZED' } },
    });
    expect(
      await post(base, disable, { 'content-type': 'application/json', authorization: 'Bearer wrong' }),
    ).toMatchObject({ status: 401 });
    expect(await post(base, JSON.stringify({ jsonrpc: '2.0', method: 'dr_reload', id: 1 }))).toMatchObject({
      status: 401,
    });
    expect(await adminGet(base, '/gateways/1', TOKEN)).toMatchObject({ state: 'active' });
    const authorized = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
    expect(await mi(base, 'dr_gw_status', { gw_id: '1', status: 0 }, authorized)).toEqual({ result: 'OK' });
    expect(await adminGet(base, '/gateways/1', TOKEN)).toMatchObject({ state: 'admin-disabled' });
  });
});
