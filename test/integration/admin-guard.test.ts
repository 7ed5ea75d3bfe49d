import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/admin/admin-client.js';
import { OPEN_READ_REUSE_MS } from '../../src/admin/open-reads.js';
import { type AdminFront, startAdminFront } from '../../src/cluster/admin-front.js';
import { configSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { freePort } from '../support/drouter-process.js';
import { startTestServer, type TestServer } from '../support/drouter-server.js';

/**
 * The admin API's guard over real HTTP (request-guard.ts): what a page in
 * the operator's browser could send cross-site, what a DNS-rebound page
 * sends, and the bearer token, on the admin server and on the --workers
 * front.
 */

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

interface Sent {
  method?: string;
  /** Sent as they are: `host` replaces the one node would make from the URL. */
  headers?: Record<string, string>;
  body?: string;
}

/** One request by node:http, which sends exactly the headers given (fetch adds its own Content-Type to a string body). */
function send(url: string, { method = 'GET', headers = {}, body }: Sent = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      url,
      {
        method,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) },
        timeout: 5000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          // A HEAD answer declares JSON and carries no body.
          const isJson = (response.headers['content-type']?.includes('json') ?? false) && text !== '';
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: isJson ? JSON.parse(text) : text,
          });
        });
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${method} ${url}: no answer within 5000 ms`)));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function codeOf(answer: Answer): unknown {
  return (answer.body as { error?: { code?: unknown } }).error?.code;
}

async function gatewayState(base: string, gwid: string): Promise<unknown> {
  const answer = await send(`${base}/gateways/${gwid}`);
  expect(answer.status).toBe(200);
  return (answer.body as { state: unknown }).state;
}

const NAMED = 'drouter-admin.test';

describe('the admin API on loopback without a token', () => {
  let server: TestServer;
  let base: string;
  let port: string;

  beforeAll(async () => {
    server = await startTestServer('127.0.0.221', { admin: { port: await freePort(), allowedHosts: [NAMED] } });
    base = server.server.adminUrl;
    port = new URL(base).port;
  });
  afterAll(async () => {
    await server.close();
  });

  it('refuses a cross-site text/plain or form POST with 415, and the gateway stays enabled', async () => {
    expect(await gatewayState(base, '1')).toBe('active');
    const plain = await send(`${base}/gateways/1/disable`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: '{}',
    });
    const form = await send(`${base}/gateways/1/disable`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=b',
    });
    const bare = await send(`${base}/gateways/1/disable`, { method: 'POST' });
    const probing = await send(`${base}/probing`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"on": true}',
    });
    expect([plain.status, form.status, bare.status, probing.status]).toEqual([415, 415, 415, 415]);
    expect(plain.body).toEqual({
      error: {
        code: 'DROUTER_ERR_UNSUPPORTED_MEDIA_TYPE',
        message:
          'POST with Content-Type "text/plain;charset=UTF-8": a request that changes something must be sent as Content-Type: application/json, even without a body',
      },
    });
    expect([codeOf(form), codeOf(bare)]).toEqual([
      'DROUTER_ERR_UNSUPPORTED_MEDIA_TYPE',
      'DROUTER_ERR_UNSUPPORTED_MEDIA_TYPE',
    ]);
    expect(await gatewayState(base, '1')).toBe('active');
    expect((await send(`${base}/probing`)).body).toEqual({ probing: false });
  });

  it('takes a JSON POST, with or without a body and with a charset', async () => {
    const disabled = await send(`${base}/gateways/1/disable`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect([disabled.status, (disabled.body as { state: unknown }).state]).toEqual([200, 'admin-disabled']);
    expect(await gatewayState(base, '1')).toBe('admin-disabled');
    const enabled = await send(`${base}/gateways/1/enable`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{}',
    });
    expect(enabled.status).toBe(200);
    expect(await gatewayState(base, '1')).toBe('active');
    const probing = await send(`${base}/probing`, {
      method: 'POST',
      headers: { 'content-type': 'Application/JSON' },
      body: '{"on": false}',
    });
    expect([probing.status, probing.body]).toEqual([200, { probing: false }]);
    // Declared JSON and not JSON: the caller's mistake, said as the others are.
    const broken = await send(`${base}/probing`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"on": ',
    });
    expect([broken.status, codeOf(broken)]).toEqual([400, 'DROUTER_ERR_USAGE']);
  });

  it('the CLI client sends its POSTs as JSON, those without a body too', async () => {
    const client = new AdminClient(base, '');
    expect(await client.post<{ state: string }>('/gateways/2/disable')).toMatchObject({
      gwid: '2',
      state: 'admin-disabled',
    });
    expect(await gatewayState(base, '2')).toBe('admin-disabled');
    expect(await client.post<{ state: string }>('/gateways/2/enable')).toMatchObject({ gwid: '2', state: 'active' });
    expect(await gatewayState(base, '2')).toBe('active');
  });

  it('refuses a foreign Host with 403, on a read and on a mutation', async () => {
    const peers = await send(`${base}/peers`, { headers: { host: `evil.example:${port}` } });
    expect([peers.status, peers.body]).toEqual([
      403,
      {
        error: {
          code: 'DROUTER_ERR_FORBIDDEN_HOST',
          message: `Host "evil.example:${port}": not a name of this admin API (admin.address, or a name in admin.allowedHosts)`,
        },
      },
    ]);
    const disable = await send(`${base}/gateways/1/disable`, {
      method: 'POST',
      headers: { host: 'evil.example', 'content-type': 'application/json' },
    });
    expect([disable.status, codeOf(disable)]).toEqual([403, 'DROUTER_ERR_FORBIDDEN_HOST']);
    expect(await gatewayState(base, '1')).toBe('active');
    for (const host of [`localhost.evil.example:${port}`, `${NAMED}.evil.example`, '127.0.0.2']) {
      expect((await send(`${base}/health`, { headers: { host } })).status, host).toBe(403);
    }
  });

  it('answers the admin address, localhost and a name of admin.allowedHosts, with or without the port; /metrics and /health as a scraper asks', async () => {
    const hosts = [
      `127.0.0.1:${port}`,
      '127.0.0.1',
      `localhost:${port}`,
      'localhost',
      `${NAMED}:${port}`,
      NAMED.toUpperCase(),
    ];
    const answers = await Promise.all(
      hosts.map(async (host) => (await send(`${base}/peers`, { headers: { host } })).status),
    );
    expect(answers).toEqual(hosts.map(() => 200));
    // Prometheus sends the target it scrapes as Host.
    const metrics = await send(`${base}/metrics`, { headers: { host: `127.0.0.1:${port}` } });
    expect([metrics.status, String(metrics.body).includes('sipdr_gateway_up')]).toEqual([200, true]);
    expect((await send(`${base}/health`, { headers: { host: `127.0.0.1:${port}` } })).status).toBe(200);
  });
});

describe('the admin API with a token', () => {
  const TOKEN = 's3cret-token';
  let server: TestServer;
  let base: string;

  beforeAll(async () => {
    server = await startTestServer('127.0.0.222', { admin: { port: await freePort(), token: TOKEN } });
    base = server.server.adminUrl;
  });
  afterAll(async () => {
    await server.close();
  });

  it('takes the scheme in any case', async () => {
    const statuses = await Promise.all(
      ['Bearer', 'bearer', 'BEARER', 'bEaReR'].map(
        async (scheme) => (await send(`${base}/gateways`, { headers: { authorization: `${scheme} ${TOKEN}` } })).status,
      ),
    );
    expect(statuses).toEqual([200, 200, 200, 200]);
    const posted = await send(`${base}/gateways/1/disable`, {
      method: 'POST',
      headers: { authorization: `bearer ${TOKEN}`, 'content-type': 'application/json' },
    });
    expect(posted.status).toBe(200);
    expect((await new AdminClient(base, TOKEN).get<{ state: string }>('/gateways/1')).state).toBe('admin-disabled');
    expect((await new AdminClient(base, TOKEN).post<{ state: string }>('/gateways/1/enable')).state).toBe('active');
  });

  it('refuses wrong tokens of every length, and none, with 401', async () => {
    const wrong = ['', 's', 's3cret-toke', 's3cret-tokeN', 'S3CRET-TOKEN', `${TOKEN}x`, 'x'.repeat(200)];
    const answers = await Promise.all(
      wrong.map((token) => send(`${base}/gateways`, { headers: { authorization: `Bearer ${token}` } })),
    );
    expect(answers.map((answer) => answer.status)).toEqual(wrong.map(() => 401));
    expect(answers.map(codeOf)).toEqual(wrong.map(() => 'DROUTER_ERR_UNAUTHORIZED'));
    expect(answers[0]?.headers['www-authenticate']).toBe('Bearer');
    const none = await send(`${base}/gateways/1/disable`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(none.status).toBe(401);
    expect((await new AdminClient(base, TOKEN).get<{ state: string }>('/gateways/1')).state).toBe('active');
  });
});

describe('the admin API with a token and admin.openReads', () => {
  const TOKEN = 'probe-and-scrape-token';
  const bearer = { authorization: `Bearer ${TOKEN}` };
  let server: TestServer;
  let base: string;

  beforeAll(async () => {
    server = await startTestServer('127.0.0.224', {
      admin: { address: '127.0.0.224', port: await freePort(), token: TOKEN, openReads: ['/health', '/metrics'] },
    });
    base = server.server.adminUrl;
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers /health (its status only) and /metrics without the token, as a probe and a scraper ask; the token still gets the whole /health', async () => {
    const health = await send(`${base}/health`);
    expect([health.status, health.body]).toEqual([200, { status: 'ok' }]);
    const head = await send(`${base}/health`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    const metrics = await send(`${base}/metrics`);
    expect([
      metrics.status,
      String(metrics.headers['content-type']).startsWith('text/plain'),
      String(metrics.body).includes('sipdr_gateway_up{gateway="1"} 1'),
    ]).toEqual([200, true, true]);
    const full = await send(`${base}/health`, { headers: bearer });
    expect(full.status).toBe(200);
    expect(Object.keys(full.body as object)).toEqual(['status', 'store', 'cache', 'sip', 'routing', 'ha']);
  });

  it('needs the token for everything else: other reads, other spellings, every mutation; a wrong token and a foreign Host are refused on the open reads too', async () => {
    const refused = await Promise.all([
      send(`${base}/gateways`),
      send(`${base}/peers`),
      send(`${base}/health/`),
      send(`${base}/HEALTH`),
      send(`${base}/reload`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
      send(`${base}/gateways/1/disable`, { method: 'POST', headers: { 'content-type': 'application/json' } }),
      send(`${base}/probing`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"on": true}',
      }),
      send(`${base}/metrics`, { headers: { authorization: 'Bearer wrong' } }),
    ]);
    expect(refused.map((answer) => answer.status)).toEqual(refused.map(() => 401));
    expect(refused.map(codeOf)).toEqual(refused.map(() => 'DROUTER_ERR_UNAUTHORIZED'));
    expect((await send(`${base}/gateways/1`, { headers: bearer })).body).toMatchObject({ state: 'active' });
    expect((await send(`${base}/probing`, { headers: bearer })).body).toEqual({ probing: false });
    const foreign = await send(`${base}/metrics`, { headers: { host: 'evil.example' } });
    expect([foreign.status, codeOf(foreign)]).toEqual([403, 'DROUTER_ERR_FORBIDDEN_HOST']);
  });

  it('answers a flood of anonymous reads from one result a second, while the token reads the live state', async () => {
    const up = (answer: Answer) => /sipdr_gateway_up\{gateway="2"\} (\d)/.exec(String(answer.body))?.[1];
    const before = await send(`${base}/metrics`);
    const firstAt = Date.now();
    const disabled = await send(`${base}/gateways/2/disable`, {
      method: 'POST',
      headers: { ...bearer, 'content-type': 'application/json' },
    });
    expect(disabled.status).toBe(200);
    const [anonymous, withToken] = await Promise.all([
      send(`${base}/metrics`),
      send(`${base}/metrics`, { headers: bearer }),
    ]);
    // Within the second the anonymous read is the one before the change (a machine too slow for that proves nothing here).
    expect([up(before), Date.now() - firstAt >= OPEN_READ_REUSE_MS || up(anonymous) === '1', up(withToken)]).toEqual([
      '1',
      true,
      '0',
    ]);
    const flood = await Promise.all(Array.from({ length: 500 }, () => send(`${base}/health`)));
    expect(new Set(flood.map((answer) => `${answer.status} ${JSON.stringify(answer.body)}`))).toEqual(
      new Set(['200 {"status":"ok"}']),
    );
    await new Promise((resolve) => setTimeout(resolve, OPEN_READ_REUSE_MS));
    expect(up(await send(`${base}/metrics`))).toBe('0');
    expect(
      (
        await send(`${base}/gateways/2/enable`, {
          method: 'POST',
          headers: { ...bearer, 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(200);
  });
});

describe('the --workers front', () => {
  let worker: TestServer;
  let front: AdminFront;
  let base: string;

  beforeAll(async () => {
    // A whole server as the one worker behind the front: the front's checks, then its forwarding to a real admin API.
    worker = await startTestServer('127.0.0.223');
    const config = configSchema.parse({ admin: { allowedHosts: [NAMED] } }).admin;
    const pool = {
      ready: () => [{ index: 1, pid: process.pid, adminUrl: worker.server.adminUrl }],
      status: () => [{ worker: 1, pid: process.pid, ready: true, restarts: 0, admin: worker.server.adminUrl }],
      metrics: () => Promise.reject(new Error('not asked in these tests')),
    };
    front = await startAdminFront({ ...config, port: 0 }, pool, createLogger('silent'));
    base = front.url;
  });
  afterAll(async () => {
    await front.close();
    await worker.close();
  });

  it('makes the same checks before forwarding: foreign Host 403, text/plain POST 415, the gateway still enabled', async () => {
    const foreign = await send(`${base}/peers`, { headers: { host: 'evil.example' } });
    const plain = await send(`${base}/gateways/1/disable`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    const form = await send(`${base}/gateways/1/disable`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=b',
    });
    expect([foreign.status, codeOf(foreign), plain.status, codeOf(plain), form.status]).toEqual([
      403,
      'DROUTER_ERR_FORBIDDEN_HOST',
      415,
      'DROUTER_ERR_UNSUPPORTED_MEDIA_TYPE',
      415,
    ]);
    expect(await gatewayState(worker.server.adminUrl, '1')).toBe('active');
  });

  it('passes a JSON POST without a body on to the worker, which acts on it; answers its own names', async () => {
    const port = new URL(base).port;
    const disabled = await send(`${base}/gateways/1/disable`, {
      method: 'POST',
      headers: { host: `${NAMED}:${port}`, 'content-type': 'application/json' },
    });
    expect([disabled.status, (disabled.body as { state: unknown }).state]).toEqual([200, 'admin-disabled']);
    expect(await gatewayState(worker.server.adminUrl, '1')).toBe('admin-disabled');
    expect((await new AdminClient(base, '').post<{ state: string }>('/gateways/1/enable')).state).toBe('active');
    expect(await gatewayState(worker.server.adminUrl, '1')).toBe('active');
    expect((await send(`${base}/peers`, { headers: { host: `localhost:${port}` } })).status).toBe(200);
  });
});

describe('the --workers front with a token and admin.openReads', () => {
  const TOKEN = 'front-token';
  let worker: TestServer;
  let front: AdminFront;
  let base: string;
  let renderings = 0;

  beforeAll(async () => {
    const admin = { token: TOKEN, openReads: ['/health', '/metrics'] };
    worker = await startTestServer('127.0.0.225', { admin: { ...admin, port: await freePort() } });
    const config = configSchema.parse({ admin }).admin;
    const pool = {
      ready: () => [{ index: 1, pid: process.pid, adminUrl: worker.server.adminUrl }],
      status: () => [{ worker: 1, pid: process.pid, ready: true, restarts: 0, admin: worker.server.adminUrl }],
      // The node's metrics as the primary gathers them from its workers: counted, to see how often a flood has them rendered.
      metrics: async () => ({ contentType: 'text/plain; version=0.0.4', text: `sipdr_renderings ${++renderings}\n` }),
    };
    front = await startAdminFront({ ...config, port: 0 }, pool, createLogger('silent'));
    base = front.url;
  });
  afterAll(async () => {
    await front.close();
    await worker.close();
  });

  it('answers anonymous /health with the status only (no worker list) and /metrics rendered once for a flood; the token gets the whole', async () => {
    const health = await send(`${base}/health`);
    expect([health.status, health.body]).toEqual([200, { status: 'ok' }]);
    const full = await send(`${base}/health`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect([full.status, Object.keys(full.body as object)]).toEqual([
      200,
      ['status', 'store', 'cache', 'sip', 'routing', 'ha', 'workers'],
    ]);
    const before = renderings;
    const startedAt = Date.now();
    const flood = await Promise.all(Array.from({ length: 200 }, () => send(`${base}/metrics`)));
    // One rendering per second begun (one, unless the machine took over a second for the 200).
    const seconds = Math.floor((Date.now() - startedAt) / OPEN_READ_REUSE_MS) + 1;
    const rendered = renderings - before;
    expect(rendered >= 1 && rendered <= seconds, `${rendered} renderings in ${seconds} s`).toBe(true);
    expect(new Set(flood.map((answer) => `${answer.status} ${String(answer.body).split(' ')[0]}`))).toEqual(
      new Set(['200 sipdr_renderings']),
    );
  });

  it('needs the token for the rest, mutations above all', async () => {
    const disable = await send(`${base}/gateways/1/disable`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    const gateways = await send(`${base}/gateways`);
    expect([disable.status, gateways.status]).toEqual([401, 401]);
    expect(
      (await send(`${worker.server.adminUrl}/gateways/1`, { headers: { authorization: `Bearer ${TOKEN}` } })).body,
    ).toMatchObject({ state: 'active' });
  });
});
