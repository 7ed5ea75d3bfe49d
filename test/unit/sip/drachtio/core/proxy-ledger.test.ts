import { describe, expect, it } from 'vitest';
import type { AttemptReport, ProxyTarget } from '../../../../../src/sip/engine.js';
import { destinationUri } from '../../../../../src/sip/drachtio/drachtio-proxy.js';
import { localContact, parseHostports } from '../../../../../src/sip/drachtio/core/hostports.js';
import {
  bestStatus,
  ProxyLedger,
  serverDecision,
  statusLine,
} from '../../../../../src/sip/drachtio/core/proxy-ledger.js';

const target = (label: string, address: string, port = 5060): ProxyTarget => ({
  uri: `sip:0114420@${address}:${port}`,
  destination: { address, port, transport: 'udp' },
  label,
});

const GW1 = target('1', '127.0.0.2');
const GW2 = target('2', '127.0.0.3');
const GW3 = target('3', '127.0.0.4');
const TIMEOUT = 800;

/** Each report as [gateway, status, local, what drachtio-server did next]. */
const brief = (reports: readonly AttemptReport[]) =>
  reports.map((r) => [r.target.label, r.status, r.local, r.decision]);

describe('drachtio proxy results as attempt reports', () => {
  it('reports a silent gateway (skipped by the provisional timeout) before the one that answered', () => {
    const ledger = new ProxyLedger([GW1, GW2], 0, TIMEOUT);
    expect(brief(ledger.final({ address: '127.0.0.3', port: 5060, status: 200, reason: 'OK', atMs: 820 }))).toEqual([
      ['1', 408, true, 'failover'],
      ['2', 200, false, 'answered'],
    ]);
    const { added, result } = ledger.end({ kind: 'done', atMs: 821 });
    expect(added).toEqual([]);
    expect(result.outcome).toBe('answered');
    expect(result.status).toBe(200);
    expect(result.attempts[0]).toMatchObject({ provisional: false, durationMs: TIMEOUT });
  });

  it('fails over on each final and sends upstream the status drachtio-server picks (4xx before 5xx)', () => {
    const ledger = new ProxyLedger([GW1, GW2], 0, TIMEOUT);
    ledger.final({ address: '127.0.0.2', port: 5060, status: 486, reason: 'Busy Here', atMs: 5 });
    ledger.final({ address: '127.0.0.3', port: 5060, status: 503, reason: 'Service Unavailable', atMs: 9 });
    const { result } = ledger.end({ kind: 'done', atMs: 10 });
    expect(result).toMatchObject({ outcome: 'failed', status: 486 });
    expect(brief(result.attempts)).toEqual([
      ['1', 486, false, 'failover'],
      ['2', 503, false, 'exhausted'],
    ]);
  });

  it('counts the destinations left after the last final as silent when the time for their timeouts has passed', () => {
    const ledger = new ProxyLedger([GW1, GW2, GW3], 0, TIMEOUT);
    ledger.final({ address: '127.0.0.2', port: 5060, status: 500, reason: 'Server Error', atMs: 5 });
    const { added, result } = ledger.end({ kind: 'done', atMs: 5 + 2 * TIMEOUT + 3 });
    expect(brief(added)).toEqual([
      ['2', 408, true, 'failover'],
      ['3', 408, true, 'exhausted'],
    ]);
    expect(brief(result.attempts)[0]).toEqual(['1', 500, false, 'failover']);
    expect(result.status).toBe(500);
  });

  it('answers 408 when no destination answered at all', () => {
    const ledger = new ProxyLedger([GW1, GW2], 0, TIMEOUT);
    const { added, result } = ledger.end({ kind: 'done', atMs: 2 * TIMEOUT + 2 });
    expect(brief(added)).toEqual([
      ['1', 408, true, 'failover'],
      ['2', 408, true, 'exhausted'],
    ]);
    expect(result).toMatchObject({ outcome: 'failed', status: 408 });
  });

  it('does not call a destination silent on a `done` that came at once (drachtio-server ends early after a provisional timeout)', () => {
    const ledger = new ProxyLedger([GW1, GW2, GW3], 0, TIMEOUT);
    ledger.final({ address: '127.0.0.3', port: 5060, status: 503, reason: 'Service Unavailable', atMs: TIMEOUT + 4 });
    const { added, result } = ledger.end({ kind: 'done', atMs: TIMEOUT + 5 });
    expect(added).toEqual([]);
    expect(brief(result.attempts)).toEqual([
      ['1', 408, true, 'failover'],
      ['2', 503, false, 'failover'],
    ]);
  });

  it('stops at a challenge: the destinations after it were never tried', () => {
    const ledger = new ProxyLedger([GW1, GW2], 0, TIMEOUT);
    const challenged = ledger.final({
      address: '127.0.0.2',
      port: 5060,
      status: 407,
      reason: 'Proxy Authentication Required',
      atMs: 3,
    });
    expect(brief(challenged)).toEqual([['1', 407, false, 'relayed']]);
    const { added, result } = ledger.end({ kind: 'done', atMs: 2000 });
    expect(added).toEqual([]);
    expect(result).toMatchObject({ outcome: 'failed', status: 407 });
  });

  it('reads a 487 as the caller having cancelled', () => {
    const ledger = new ProxyLedger([GW1, GW2], 0, TIMEOUT);
    const cancelled = ledger.final({
      address: '127.0.0.2',
      port: 5060,
      status: 487,
      reason: 'Request Terminated',
      atMs: 300,
    });
    expect(brief(cancelled)).toEqual([['1', 487, false, 'cancelled']]);
    expect(ledger.end({ kind: 'done', atMs: 301 }).result).toMatchObject({ outcome: 'cancelled', status: 487 });
  });

  it('ends without inventing attempts when drachtio-server refused, the connection went, or no `done` came', () => {
    expect(new ProxyLedger([GW1], 0, TIMEOUT).end({ kind: 'refused', atMs: 1, status: 500 }).result).toEqual({
      outcome: 'failed',
      attempts: [],
      status: 500,
    });
    expect(new ProxyLedger([GW1], 0, TIMEOUT).end({ kind: 'lost', atMs: 1 }).result).toEqual({
      outcome: 'failed',
      attempts: [],
      status: 500,
    });
    expect(new ProxyLedger([GW1], 0, TIMEOUT).end({ kind: 'gave-up', atMs: 1 }).result).toEqual({
      outcome: 'cancelled',
      attempts: [],
      status: 487,
    });
  });

  it('reports a response drachtio-server made itself (no source address) as local, for the current destination', () => {
    const ledger = new ProxyLedger([GW1, GW2], 0, TIMEOUT);
    expect(brief(ledger.final({ address: '', port: 0, status: 503, reason: 'Service Unavailable', atMs: 2 }))).toEqual([
      ['1', 503, true, 'failover'],
    ]);
  });

  it('matches two destinations on one address by their ports', () => {
    const a = target('a', '127.0.0.2', 5080);
    const b = target('b', '127.0.0.2', 5090);
    const ledger = new ProxyLedger([a, b], 0, TIMEOUT);
    expect(brief(ledger.final({ address: '127.0.0.2', port: 5090, status: 200, reason: 'OK', atMs: 900 }))).toEqual([
      ['a', 408, true, 'failover'],
      ['b', 200, false, 'answered'],
    ]);
  });
});

describe('what drachtio-server does after a destination ends, as the report carries it', () => {
  it.each([
    [200, true, 'answered'],
    [486, true, 'failover'],
    [603, true, 'failover'],
    [503, true, 'failover'],
    [503, false, 'exhausted'],
    [0, true, 'failover'],
    [0, false, 'exhausted'],
    [401, true, 'relayed'],
    [407, true, 'relayed'],
    [487, true, 'cancelled'],
  ] as const)('after %i (another destination left: %s): %s', (final, another, decision) => {
    expect(serverDecision(final, another)).toBe(decision);
  });
});

describe("drachtio-server's choice of the final upstream", () => {
  it.each([
    [[503, 486], 486],
    [[486, 603], 603],
    [[404, 401], 401],
    [[500, 503], 503],
    [[302, 503], 503],
    [[0, 0], 408],
  ])('from %j sends %i', (statuses, expected) => {
    expect(bestStatus(statuses)).toBe(expected);
  });

  it('reads the status line of a relayed final', () => {
    expect(statusLine('SIP/2.0 486 Busy Here\r\nVia: x\r\n\r\n')).toEqual({ status: 486, reason: 'Busy Here' });
    expect(statusLine('SIP/2.0 503\r\n\r\n')).toEqual({ status: 503, reason: 'Service Unavailable' });
    expect(statusLine('INVITE sip:x SIP/2.0\r\n')).toBeUndefined();
  });
});

describe('destinations and contacts', () => {
  it('sends a target whose Request-URI points at its destination as it is, and another to its destination with the user kept', () => {
    expect(destinationUri(GW1)).toBe('sip:0114420@127.0.0.2:5060');
    expect(
      destinationUri({
        uri: 'sip:1001@192.168.1.20:5060;ob',
        destination: { address: '203.0.113.7', port: 40123, transport: 'udp' },
        label: 'peer 1001',
      }),
    ).toBe('sip:1001@203.0.113.7:40123;ob');
    expect(
      destinationUri({
        uri: 'sip:1001@10.0.0.5',
        destination: { address: '10.0.0.5', port: 5060, transport: 'tcp' },
        label: 'peer',
      }),
    ).toBe('sip:1001@10.0.0.5:5060;transport=tcp');
  });

  it("names a TLS or WSS destination's transport for drachtio-server", () => {
    expect(
      destinationUri({
        uri: 'sip:1001@10.0.0.5:40000;transport=tls',
        destination: { address: '10.0.0.5', port: 40000, transport: 'tls' },
        label: 'peer',
      }),
    ).toBe('sip:1001@10.0.0.5:40000;transport=tls');
    expect(
      destinationUri({
        uri: 'sip:1002@df7jal23ls0d.invalid;transport=ws',
        destination: { address: '10.0.0.6', port: 40001, transport: 'wss' },
        label: 'peer',
      }),
    ).toBe('sip:1002@10.0.0.6:40001;transport=wss');
  });

  it('reads the contacts drachtio-server announces and picks ours', () => {
    const hostports = parseHostports('udp/127.0.0.210:5060,tcp/127.0.0.210:5060,udp/[::1]:5062');
    expect(hostports).toEqual([
      { transport: 'udp', address: '127.0.0.210', port: 5060 },
      { transport: 'tcp', address: '127.0.0.210', port: 5060 },
      { transport: 'udp', address: '::1', port: 5062 },
    ]);
    expect(localContact(hostports, '::1')).toEqual({ address: '::1', port: 5062, transports: ['udp'] });
    expect(localContact(hostports, '192.0.2.10')).toEqual({
      address: '127.0.0.210',
      port: 5060,
      transports: ['udp', 'tcp'],
    });
    expect(localContact([], '127.0.0.1')).toBeUndefined();
    // Its sips: contacts: TLS and WSS on ports of their own beside UDP and TCP.
    const secure = parseHostports(
      'udp/127.0.0.246:5060,tcp/127.0.0.246:5060,tls/127.0.0.246:5061,wss/127.0.0.246:8443',
    );
    expect(localContact(secure, '127.0.0.246')).toEqual({
      address: '127.0.0.246',
      port: 5060,
      tlsPort: 5061,
      wssPort: 8443,
      transports: ['udp', 'tcp', 'tls', 'wss'],
    });
    expect(localContact(parseHostports('tls/127.0.0.246:5061,udp/127.0.0.246:5060'), '127.0.0.246')).toMatchObject({
      port: 5060,
      tlsPort: 5061,
      transports: ['udp', 'tls'],
    });
  });
});
