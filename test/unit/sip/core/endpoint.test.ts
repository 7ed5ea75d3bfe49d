import { describe, expect, it } from 'vitest';
import {
  endpointOfText,
  hostText,
  isOwnHop,
  listeningText,
  localPort,
  transportOf,
} from '../../../../src/sip/core/endpoint.js';

describe('where a SIP URI points, and which hops are ours', () => {
  it('reads TLS from sips: (RFC 5630) and ;transport=tls, each with 5061 as the port a URI leaves out', () => {
    expect(endpointOfText('sips:gw@198.51.100.5')).toEqual({ address: '198.51.100.5', port: 5061, transport: 'tls' });
    expect(endpointOfText('sip:198.51.100.5;transport=TLS')).toEqual({
      address: '198.51.100.5',
      port: 5061,
      transport: 'tls',
    });
    expect(endpointOfText('sip:198.51.100.5:5071;transport=tls')).toEqual({
      address: '198.51.100.5',
      port: 5071,
      transport: 'tls',
    });
    expect(endpointOfText('sip:198.51.100.5;transport=tcp')).toEqual({
      address: '198.51.100.5',
      port: 5060,
      transport: 'tcp',
    });
    expect(endpointOfText('sip:[2001:db8::5]')).toEqual({ address: '2001:db8::5', port: 5060, transport: 'udp' });
  });

  it("names a Via's or a connection's transport, anything unknown as UDP", () => {
    expect(['TLS', 'tcp', 'UDP', 'SCTP'].map(transportOf)).toEqual(['tls', 'tcp', 'udp', 'udp']);
  });

  it('takes our TLS port for the TLS side and sip.port for the others', () => {
    const local = { address: '192.0.2.10', port: 5060, tlsPort: 5062 };
    expect([localPort(local, 'udp'), localPort(local, 'tcp'), localPort(local, 'tls')]).toEqual([5060, 5060, 5062]);
  });

  it("calls a hop ours on our address and either port, a Via without a port by its transport's default", () => {
    const local = { address: '192.0.2.10', port: 5060, tlsPort: 5061 };
    expect(isOwnHop(local, { address: '192.0.2.10', port: 5061 })).toBe(true);
    expect(isOwnHop(local, { address: '192.0.2.10', port: undefined, transport: 'TLS' })).toBe(true);
    expect(isOwnHop(local, { address: '192.0.2.10', port: undefined })).toBe(true);
    expect(isOwnHop(local, { address: '192.0.2.10', port: 5070 })).toBe(false);
    expect(isOwnHop({ address: '192.0.2.10', port: 5060 }, { address: '192.0.2.10', port: 5061 })).toBe(false);
    expect(isOwnHop(local, { address: '192.0.2.11', port: 5060 })).toBe(false);
  });

  it('says where SIP is served, TLS on its own port', () => {
    expect(listeningText({ address: '127.0.0.1', port: 5060, transports: ['udp', 'tcp'] })).toBe(
      'udp+tcp 127.0.0.1:5060',
    );
    expect(listeningText({ address: '127.0.0.1', port: 5060, tlsPort: 5061, transports: ['udp', 'tcp', 'tls'] })).toBe(
      'udp+tcp 127.0.0.1:5060, tls 127.0.0.1:5061',
    );
    expect(listeningText({ address: '127.0.0.1', port: 5060, tlsPort: 5061, transports: ['tls'] })).toBe(
      'tls 127.0.0.1:5061',
    );
  });

  it('writes an IPv6 address in brackets (RFC 3261 §25.1) and takes a bracketed hop as ours', () => {
    expect([hostText('2001:db8::10'), hostText('[2001:db8::10]'), hostText('192.0.2.10')]).toEqual([
      '[2001:db8::10]',
      '[2001:db8::10]',
      '192.0.2.10',
    ]);
    expect(isOwnHop({ address: '2001:db8::10', port: 5060 }, { address: '[2001:db8::10]', port: 5060 })).toBe(true);
    expect(listeningText({ address: '::1', port: 5060, wsPort: 8080, transports: ['udp', 'ws'] })).toBe(
      'udp [::1]:5060, ws [::1]:8080',
    );
    expect(endpointOfText('sip:[2001:db8::10]:5080;transport=ws')).toEqual({
      address: '2001:db8::10',
      port: 5080,
      transport: 'ws',
    });
    expect(endpointOfText('sips:[2001:db8::10];transport=ws')).toEqual({
      address: '2001:db8::10',
      port: 443,
      transport: 'wss',
    });
  });
});
