import { describe, expect, it } from 'vitest';
import { hostAddresses, unheldAddressWarning } from '../../../src/ha/virtual-address.js';

describe('the warning for a virtual IP bound without keepalived in charge', () => {
  it("warns only when the address is not this host's and no keepalived state file decides who leads", () => {
    expect(unheldAddressWarning('198.18.0.10', ['127.0.0.1', '198.18.0.11'], '')).toMatch(
      /^sip\.address 198\.18\.0\.10 is not an address of this host .* set ha\.keepalivedStateFile/,
    );
    expect(
      unheldAddressWarning('198.18.0.10', ['127.0.0.1', '198.18.0.11'], '/run/sip-drouter/keepalived.state'),
    ).toBeUndefined();
    expect(unheldAddressWarning('198.18.0.11', ['127.0.0.1', '198.18.0.11'], '')).toBeUndefined();
    expect(unheldAddressWarning('127.0.0.50', ['127.0.0.1'], '')).toBeUndefined();
  });

  it("lists this host's own addresses, loopback among them", () => {
    expect(hostAddresses()).toContain('127.0.0.1');
  });
});
