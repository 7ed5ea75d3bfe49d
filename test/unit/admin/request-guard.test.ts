import { describe, expect, it } from 'vitest';
import { allowedHostCheck, hostNameOf } from '../../../src/admin/allowed-hosts.js';
import { bearerTokenCheck } from '../../../src/admin/bearer-token.js';
import { type AdminRequestHead, adminRequestGuard } from '../../../src/admin/request-guard.js';
import { configSchema } from '../../../src/config/schema.js';

const JSON_TYPE = 'application/json';

describe('the Host header of an admin request', () => {
  it.each([
    ['127.0.0.1:8080', '127.0.0.1'],
    ['127.0.0.1', '127.0.0.1'],
    ['LocalHost:8080', 'localhost'],
    ['[::1]:8080', '::1'],
    ['[0:0:0:0:0:0:0:1]', '::1'],
    ['admin.example.net:', 'admin.example.net'],
  ])('%s names %s', (header, name) => {
    expect(hostNameOf(header)).toBe(name);
  });

  it.each(['evil.example@127.0.0.1', '127.0.0.1/x', '', '[evil.example]', '127.0.0.1:8080:1', 'a b'])(
    '%j is not a host',
    (header) => {
      expect(hostNameOf(header)).toBeUndefined();
    },
  );

  it('on loopback: the address and localhost, with or without a port, and the allowed names; nothing else', () => {
    const allowed = allowedHostCheck({ address: '127.0.0.1', allowedHosts: ['Admin.Example.Net'] });
    expect(
      [
        '127.0.0.1',
        '127.0.0.1:8080',
        'localhost',
        'localhost:8080',
        'admin.example.net:8080',
        'ADMIN.example.net',
      ].filter((host) => !allowed(host)),
    ).toEqual([]);
    // A rebinding page's own name; a name that only ends like ours; another loopback address; none at all.
    expect(
      [
        'evil.example',
        'evil.example:8080',
        'localhost.',
        'x.localhost',
        'admin.example.net.evil.example',
        '127.0.0.2',
        '[::1]',
        undefined,
      ].filter((host) => allowed(host)),
    ).toEqual([]);
  });

  it('on another address: that address and the allowed names, not localhost', () => {
    const allowed = allowedHostCheck({ address: '192.0.2.10', allowedHosts: ['sip1.example.net'] });
    expect([
      allowed('192.0.2.10:8080'),
      allowed('sip1.example.net'),
      allowed('localhost'),
      allowed('127.0.0.1'),
      allowed('198.51.100.1'),
    ]).toEqual([true, true, false, false, false]);
  });

  it('bound to every address: any IP address (an address cannot be rebound) and localhost, but no other name', () => {
    for (const address of ['0.0.0.0', '::']) {
      const allowed = allowedHostCheck({ address, allowedHosts: [] });
      expect(
        [
          allowed('127.0.0.1:8081'),
          allowed('192.0.2.10'),
          allowed('[2001:db8::1]:8080'),
          allowed('localhost'),
          allowed('evil.example'),
        ],
        address,
      ).toEqual([true, true, true, true, false]);
    }
  });

  it('an IPv6 admin address is matched in any spelling', () => {
    const allowed = allowedHostCheck({ address: '0:0:0:0:0:0:0:1', allowedHosts: [] });
    expect([allowed('[::1]:8080'), allowed('[0::1]'), allowed('localhost'), allowed('127.0.0.1')]).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });

  it('admin.allowedHosts takes names and addresses, not a name with a port or a URL', () => {
    expect(
      configSchema.parse({ admin: { allowedHosts: ['sip1.example.net', '192.0.2.10', '2001:db8::1'] } }).admin
        .allowedHosts,
    ).toEqual(['sip1.example.net', '192.0.2.10', '2001:db8::1']);
    for (const bad of ['sip1.example.net:8080', 'http://sip1.example.net', '*.example.net', '']) {
      expect(configSchema.safeParse({ admin: { allowedHosts: [bad] } }).success, bad).toBe(false);
    }
  });
});

describe('the bearer token', () => {
  const matches = bearerTokenCheck('s3cret-token');

  it('is accepted whatever the case of the scheme', () => {
    expect(
      ['Bearer s3cret-token', 'bearer s3cret-token', 'BEARER s3cret-token', 'Bearer  s3cret-token'].filter(
        (header) => !matches(header),
      ),
    ).toEqual([]);
  });

  it('is refused when wrong, of any length, or under another scheme', () => {
    const wrong = [
      'Bearer ',
      'Bearer s',
      'Bearer s3cret-toke',
      'Bearer s3cret-tokeN',
      'Bearer s3cret-token2',
      `Bearer ${'x'.repeat(500)}`,
      'Basic s3cret-token',
      's3cret-token',
      'Bearers3cret-token',
      'Bearer s3cret-token extra',
      '',
    ];
    expect(wrong.filter((header) => matches(header))).toEqual([]);
    expect(matches(undefined)).toBe(false);
  });
});

describe('the admin request guard', () => {
  const head = (method: string, headers: AdminRequestHead['headers'], url = '/gateways'): AdminRequestHead => ({
    method,
    url,
    headers: { host: '127.0.0.1:8080', ...headers },
  });
  const open = adminRequestGuard({ address: '127.0.0.1', allowedHosts: [], token: '', openReads: [] });
  const statusOf = (guard: typeof open, request: AdminRequestHead) => {
    const verdict = guard(request);
    return verdict.refusal?.status ?? (verdict.anonymous ? 'anonymous' : 'passed');
  };

  it('lets reads through without a Content-Type, and JSON mutations with or without parameters', () => {
    expect([
      statusOf(open, head('GET', {})),
      statusOf(open, head('HEAD', {})),
      statusOf(open, head('POST', { 'content-type': JSON_TYPE })),
      statusOf(open, head('POST', { 'content-type': 'Application/JSON; charset=utf-8' })),
      statusOf(open, head('DELETE', { 'content-type': JSON_TYPE })),
    ]).toEqual(['passed', 'passed', 'passed', 'passed', 'passed']);
  });

  it('refuses a mutation a browser may send cross-site, or without a Content-Type: 415 with its code', () => {
    const types = [
      'text/plain',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json-patch+json',
      'text/json',
      undefined,
    ];
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      expect(
        types.map((type) => statusOf(open, head(method, type === undefined ? {} : { 'content-type': type }))),
        method,
      ).toEqual(types.map(() => 415));
    }
    expect(open(head('POST', { 'content-type': 'text/plain' })).refusal?.body).toEqual({
      error: {
        code: 'DROUTER_ERR_UNSUPPORTED_MEDIA_TYPE',
        message:
          'POST with Content-Type "text/plain": a request that changes something must be sent as Content-Type: application/json, even without a body',
      },
    });
  });

  it('refuses a foreign Host first (403), then a missing token (401), then the Content-Type (415)', () => {
    const guarded = adminRequestGuard({ address: '127.0.0.1', allowedHosts: [], token: 's3cret-token', openReads: [] });
    const foreign = guarded(head('POST', { host: 'evil.example', 'content-type': 'text/plain' })).refusal;
    expect(foreign).toEqual({
      status: 403,
      headers: {},
      body: {
        error: {
          code: 'DROUTER_ERR_FORBIDDEN_HOST',
          message: 'Host "evil.example": not a name of this admin API (admin.address, or a name in admin.allowedHosts)',
        },
      },
    });
    expect(guarded({ method: 'GET', headers: {} }).refusal?.body.error.message).toBe(
      'no Host header: not a name of this admin API (admin.address, or a name in admin.allowedHosts)',
    );
    const unauthorised = guarded(head('POST', { 'content-type': 'text/plain' })).refusal;
    expect([unauthorised?.status, unauthorised?.headers, unauthorised?.body.error.code]).toEqual([
      401,
      { 'www-authenticate': 'Bearer' },
      'DROUTER_ERR_UNAUTHORIZED',
    ]);
    expect(
      statusOf(guarded, head('POST', { authorization: 'bearer s3cret-token', 'content-type': 'text/plain' })),
    ).toBe(415);
    expect(statusOf(guarded, head('POST', { authorization: 'bearer s3cret-token', 'content-type': JSON_TYPE }))).toBe(
      'passed',
    );
  });

  it('lets a GET or HEAD of an admin.openReads path through without a token, as anonymous; anything else still needs it', () => {
    const guarded = adminRequestGuard({
      address: '0.0.0.0',
      allowedHosts: [],
      token: 's3cret-token',
      openReads: ['/health', '/metrics'],
    });
    const bearer = { authorization: 'Bearer s3cret-token' };
    expect([
      statusOf(guarded, head('GET', {}, '/health')),
      statusOf(guarded, head('HEAD', {}, '/metrics')),
      statusOf(guarded, head('GET', {}, '/health?verbose=1')),
      statusOf(guarded, head('GET', bearer, '/health')),
    ]).toEqual(['anonymous', 'anonymous', 'anonymous', 'passed']);
    // Mutations, other paths, spellings a router might still map to the route, and a wrong token: 401.
    const refused = [
      head('POST', { 'content-type': JSON_TYPE }, '/health'),
      head('POST', { 'content-type': JSON_TYPE }, '/reload'),
      head('OPTIONS', {}, '/health'),
      head('GET', {}, '/gateways'),
      head('GET', {}, '/health/'),
      head('GET', {}, '/HEALTH'),
      head('GET', {}, '/%68ealth'),
      head('GET', {}, '//health'),
      head('GET', {}, 'http://127.0.0.1:8080/health'),
      { method: 'GET', headers: { host: '127.0.0.1:8080' } },
      head('GET', { authorization: 'Bearer wrong' }, '/metrics'),
    ];
    expect(refused.map((request) => statusOf(guarded, request))).toEqual(refused.map(() => 401));
    // The Host check comes first, open reads included.
    expect(statusOf(guarded, head('GET', { host: 'evil.example' }, '/metrics'))).toBe(403);
  });

  it('has no anonymous reads without a token: every request passes as it did', () => {
    const loopback = adminRequestGuard({
      address: '127.0.0.1',
      allowedHosts: [],
      token: '',
      openReads: ['/health', '/metrics'],
    });
    expect([statusOf(loopback, head('GET', {}, '/health')), statusOf(loopback, head('GET', {}, '/metrics'))]).toEqual([
      'passed',
      'passed',
    ]);
  });
});
