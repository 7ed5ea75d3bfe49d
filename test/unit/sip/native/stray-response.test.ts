import sip, { type Message } from 'sip';
import { describe, expect, it } from 'vitest';
import { strayResponseHop } from '../../../../src/sip/native/stray-response.js';

const LOCAL = { address: '198.18.0.10', port: 5060 };

/** A gateway's 200 to an INVITE the proxy at `topVia` forwarded for a phone at 198.18.0.23:5061. */
function answer(
  topVia: string,
  phoneVia = 'SIP/2.0/UDP 198.18.0.23:5061;branch=z9hG4bK-phone;rport=5061;received=198.18.0.23',
): Message {
  const message = sip.parse(
    [
      'SIP/2.0 200 OK',
      `Via: ${topVia}`,
      ...(phoneVia ? [`Via: ${phoneVia}`] : []),
      'From: <sip:1001@198.18.0.10>;tag=a',
      'To: <sip:5551000@198.18.0.10>;tag=b',
      'Call-ID: stray-1',
      'CSeq: 1 INVITE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
  if (!message) throw new Error('the test response does not parse');
  return message;
}

describe('a response that matches no transaction (RFC 3261 §16.7, §16.11)', () => {
  it('goes to the next Via at its received/rport, without our Via', () => {
    const hop = strayResponseHop(answer('SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bK-other-node'), LOCAL);
    expect(hop?.to).toEqual({ transport: 'udp', address: '198.18.0.23', port: 5061 });
    expect(hop?.message.headers.via?.map((via) => via.host)).toEqual(['198.18.0.23']);
    expect(hop?.message.status).toBe(200);
  });

  it('goes to the sent-by of the next Via when it has no received/rport', () => {
    const hop = strayResponseHop(
      answer('SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bK-x', 'SIP/2.0/TCP 198.18.0.24:5070;branch=z9hG4bK-y'),
      LOCAL,
    );
    expect(hop?.to).toEqual({ transport: 'tcp', address: '198.18.0.24', port: 5070 });
  });

  it('is not ours when the top Via names another address or port, or when no Via follows ours', () => {
    expect(strayResponseHop(answer('SIP/2.0/UDP 198.18.0.99:5060;branch=z9hG4bK-x'), LOCAL)).toBeUndefined();
    expect(strayResponseHop(answer('SIP/2.0/UDP 198.18.0.10:5070;branch=z9hG4bK-x'), LOCAL)).toBeUndefined();
    expect(strayResponseHop(answer('SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bK-x', ''), LOCAL)).toBeUndefined();
  });

  it('takes a top Via on our TLS port as ours, and sends on over TLS', () => {
    const hop = strayResponseHop(
      answer(
        'SIP/2.0/TLS 198.18.0.10:5061;branch=z9hG4bK-tls',
        'SIP/2.0/TLS 198.18.0.23:40111;branch=z9hG4bK-phone;received=198.18.0.23',
      ),
      { ...LOCAL, tlsPort: 5061 },
    );
    expect(hop?.to).toEqual({ transport: 'tls', address: '198.18.0.23', port: 40111 });
    expect(strayResponseHop(answer('SIP/2.0/TLS 198.18.0.10:5061;branch=z9hG4bK-tls'), LOCAL)).toBeUndefined();
  });
});
