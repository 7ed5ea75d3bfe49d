import { describe, expect, it } from 'vitest';
import { NodeRelay } from '../../../../src/proxy/core/node-relay.js';
import type { ProxyTarget } from '../../../../src/sip/engine.js';

const NOW = 1_800_000_000_000;
const SECRET = 'the nodes share this';
const NODE_A = '198.18.0.11:5060';
const NODE_C = '198.18.0.13:5060';
const direct: ProxyTarget = {
  uri: 'sip:1001@10.0.0.7:5062',
  destination: { address: '203.0.113.9', port: 40123, transport: 'udp' },
  label: 'peer 1001',
};

/** What node a sends to node c for a phone registered through c: the Request-URI and Route as node c reads them. */
function sentToC(relayAtA = new NodeRelay(SECRET, NODE_A), target = direct) {
  const [via] = relayAtA.targets(target, NODE_C, NOW);
  return { uri: via?.uri ?? '', routes: via?.routes ?? [] };
}

describe('NodeRelay: calls to a phone registered through another node', () => {
  it('reaches a phone registered through another node through that node first, then straight', () => {
    const targets = new NodeRelay(SECRET, NODE_A).targets(direct, NODE_C, NOW);
    expect(targets).toHaveLength(2);
    expect(targets[0]).toMatchObject({
      uri: direct.uri,
      destination: { address: '198.18.0.13', port: 5060, transport: 'udp' },
      label: 'peer 1001 via node 198.18.0.13:5060',
    });
    expect(targets[0]?.routes?.[0]).toMatch(
      /^sip:198\.18\.0\.13:5060;lr;drn-to=udp:203\.0\.113\.9:40123;drn-until=1800000032;drn=[\w-]{22}$/,
    );
    expect(targets[1]).toEqual(direct);
  });

  it('reaches a phone registered here, or through no node, straight', () => {
    const relay = new NodeRelay(SECRET, NODE_A);
    expect(relay.targets(direct, NODE_A, NOW)).toEqual([direct]);
    expect(relay.targets(direct, undefined, NOW)).toEqual([direct]);
  });

  it("sends on what another node signed to the phone's address, with the Route entries after its own", () => {
    const atC = new NodeRelay(SECRET, NODE_C);
    const request = sentToC(new NodeRelay(SECRET, NODE_A), { ...direct, routes: ['sip:edge.example.net;lr'] });
    expect(atC.relayed(request, NOW + 1000)).toEqual({
      uri: direct.uri,
      destination: direct.destination,
      label: 'relayed from a node',
      routes: ['sip:edge.example.net;lr'],
    });
  });

  it('keeps a TCP phone on TCP and an IPv6 address whole', () => {
    const tcp: ProxyTarget = { ...direct, destination: { address: '2001:db8::7', port: 5061, transport: 'tcp' } };
    expect(new NodeRelay(SECRET, NODE_C).relayed(sentToC(undefined, tcp), NOW)?.destination).toEqual(tcp.destination);
  });

  it('sends on nothing a stranger made: another secret, a changed address or Request-URI, past its deadline, or meant for another node', () => {
    const atC = new NodeRelay(SECRET, NODE_C);
    const genuine = sentToC();
    expect(atC.relayed(sentToC(new NodeRelay('a guess', NODE_A)), NOW)).toBeUndefined();
    expect(
      atC.relayed({ ...genuine, routes: [genuine.routes[0]?.replace('203.0.113.9', '192.0.2.66') ?? ''] }, NOW),
    ).toBeUndefined();
    expect(atC.relayed({ ...genuine, uri: 'sip:0044900123456@192.0.2.66' }, NOW)).toBeUndefined();
    expect(atC.relayed(genuine, NOW + 33_000)).toBeUndefined();
    expect(new NodeRelay(SECRET, '198.18.0.12:5060').relayed(genuine, NOW)).toBeUndefined();
    expect(atC.relayed({ uri: direct.uri, routes: [] }, NOW)).toBeUndefined();
    expect(atC.relayed({ uri: direct.uri, routes: ['sip:198.18.0.13:5060;lr;drn=short'] }, NOW)).toBeUndefined();
    // 22 characters that are more than 22 bytes: refused, not thrown on.
    const forged = genuine.routes[0]?.replace(/;drn=[\w-]{22}/, `;drn=${'é'.repeat(22)}`) ?? '';
    expect(forged).toContain('é');
    expect(atC.relayed({ ...genuine, routes: [forged] }, NOW)).toBeUndefined();
  });

  it('refuses an empty secret and an address that is not address:port', () => {
    expect(() => new NodeRelay('', NODE_A)).toThrow(/secret is empty/);
    expect(() => new NodeRelay(SECRET, 'not an address')).toThrow(/ha.nodeAddress not an address is not address:port/);
  });
});
