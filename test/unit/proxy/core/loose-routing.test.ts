import { describe, expect, it } from 'vitest';
import { inDialogTarget, routesAfterOurs } from '../../../../src/proxy/core/loose-routing.js';

const LOCAL = { address: '192.0.2.10', port: 5060 };

describe('loose routing (RFC 3261 §16.4)', () => {
  it('removes our entries at the top of the route set, both of a double Record-Route, and keeps the rest', () => {
    expect(
      routesAfterOurs(['sip:192.0.2.10;lr', 'sip:192.0.2.10:5060;transport=tcp;lr', 'sip:198.51.100.7;lr'], LOCAL),
    ).toEqual(['sip:198.51.100.7;lr']);
    expect(routesAfterOurs(['sip:192.0.2.10:5070;lr'], LOCAL)).toEqual(['sip:192.0.2.10:5070;lr']);
    expect(routesAfterOurs(['sip:198.51.100.7;lr', 'sip:192.0.2.10;lr'], LOCAL)).toEqual([
      'sip:198.51.100.7;lr',
      'sip:192.0.2.10;lr',
    ]);
    expect(routesAfterOurs([], LOCAL)).toEqual([]);
  });

  it("routes a dialog's request only when its top Route is ours: to the next Route, else the Request-URI", () => {
    expect(inDialogTarget({ uri: 'sip:bob@198.51.100.9:5062', routes: ['sip:192.0.2.10;lr'] }, LOCAL)).toMatchObject({
      routes: [],
      destination: { address: '198.51.100.9', port: 5062 },
    });
    expect(
      inDialogTarget({ uri: 'sip:bob@198.51.100.9', routes: ['sip:192.0.2.10;lr', 'sip:198.51.100.7:5080;lr'] }, LOCAL),
    ).toMatchObject({ routes: ['sip:198.51.100.7:5080;lr'], destination: { address: '198.51.100.7', port: 5080 } });
    expect(inDialogTarget({ uri: 'sip:bob@198.51.100.9', routes: ['sip:198.51.100.7;lr'] }, LOCAL)).toBeUndefined();
    expect(inDialogTarget({ uri: 'sip:bob@198.51.100.9', routes: [] }, LOCAL)).toBeUndefined();
  });

  it('takes an entry on our TLS port as ours, with our double Record-Route between TLS and UDP, and routes on over TLS', () => {
    const withTls = { ...LOCAL, tlsPort: 5061 };
    expect(
      routesAfterOurs(
        ['sip:192.0.2.10:5061;transport=tls;lr', 'sip:192.0.2.10:5060;transport=udp;lr', 'sip:198.51.100.7;lr'],
        withTls,
      ),
    ).toEqual(['sip:198.51.100.7;lr']);
    expect(routesAfterOurs(['sip:192.0.2.10:5061;transport=tls;lr'], LOCAL)).toEqual([
      'sip:192.0.2.10:5061;transport=tls;lr',
    ]);
    expect(
      inDialogTarget({ uri: 'sips:bob@198.51.100.9', routes: ['sip:192.0.2.10:5061;transport=tls;lr'] }, withTls),
    ).toMatchObject({ destination: { address: '198.51.100.9', port: 5061, transport: 'tls' } });
  });

  it('sends a request inside a dialog down the connection our last entry names, when no Route is left', () => {
    const flow = { address: '198.51.100.7', port: 40123, transport: 'ws' as const };
    const flowOf = (route: string) => (route.includes(';drf=') ? flow : undefined);
    const request = {
      uri: 'sip:abc@x1y2.invalid;transport=ws',
      routes: ['sip:192.0.2.10:5060;transport=udp;lr', 'sip:192.0.2.10:8080;transport=ws;drf=ws:198.51.100.7:40123;lr'],
    };
    expect(inDialogTarget(request, { ...LOCAL, wsPort: 8080 }, flowOf)).toMatchObject({
      destination: flow,
      routes: [],
    });
    // A Route left after ours decides, as before.
    expect(
      inDialogTarget(
        { ...request, routes: [...request.routes, 'sip:198.51.100.9;lr'] },
        { ...LOCAL, wsPort: 8080 },
        flowOf,
      ),
    ).toMatchObject({ destination: { address: '198.51.100.9', port: 5060 } });
  });
});
