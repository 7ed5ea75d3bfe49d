import { describe, expect, it } from 'vitest';
import { peerAllows } from '../../../src/registrar/authentication-service.js';
import { insecureInvite } from '../../../src/proxy/peers-by-address.js';

describe("chan_sip's permit/deny on a peer", () => {
  it.each([
    [{ permit: null, deny: null }, '192.0.2.7', true],
    [{ permit: '10.0.0.0/8', deny: null }, '192.0.2.7', true],
    [{ permit: null, deny: '0.0.0.0/0.0.0.0' }, '192.0.2.7', false],
    [{ permit: '192.0.2.0/255.255.255.0', deny: '0.0.0.0/0.0.0.0' }, '192.0.2.7', true],
    [{ permit: '192.0.2.0/255.255.255.0', deny: '0.0.0.0/0.0.0.0' }, '198.51.100.7', false],
    [{ permit: '198.51.100.0/24;192.0.2.7', deny: '0.0.0.0/0' }, '192.0.2.7', true],
    [{ permit: '192.0.2.0/255.0.255.0', deny: '0.0.0.0/0' }, '192.0.2.7', false],
    [{ permit: 'not an address', deny: '192.0.2.0/24' }, '192.0.2.7', false],
    [{ permit: null, deny: '192.0.2.9' }, '192.0.2.7', true],
  ])('%j lets %s in: %s', (peer, address, allowed) => {
    expect(peerAllows(peer, address)).toBe(allowed);
  });
});

describe("chan_sip's insecure", () => {
  it.each([
    ['invite', true],
    ['port,invite', true],
    ['very', true],
    ['port', false],
    ['yes', false],
    [null, false],
  ])('%s lets INVITEs in unchallenged: %s', (insecure, expected) => {
    expect(insecureInvite({ insecure })).toBe(expected);
  });
});
