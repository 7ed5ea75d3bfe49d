/** SIP messages for the parser and serializer tests. */

export const crlf = (lines: string[], body = '') => `${lines.join('\r\n')}\r\n\r\n${body}`;

/** What the proxy sees in a call and a registration: sipp's and our peers' messages, with Record-Route, Route and digest. */
export const TRAFFIC: Readonly<Record<string, string>> = {
  invite: crlf(
    [
      'INVITE sip:01144201234567@127.0.0.60:5060 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.61:5060;branch=z9hG4bK-1-0;rport',
      'From: "Phone 1001" <sip:1001@127.0.0.1>;tag=42SIPpTag001',
      'To: <sip:01144201234567@127.0.0.60:5060>',
      'Call-ID: 1-42@127.0.0.61',
      'CSeq: 1 INVITE',
      'Contact: <sip:1001@127.0.0.61:5060>',
      'Max-Forwards: 70',
      'Content-Type: application/sdp',
      'Content-Length: 31',
    ],
    'v=0\r\no=- 1 1 IN IP4 127.0.0.61\r\n',
  ),
  ringing: crlf([
    'SIP/2.0 180 Ringing',
    'Via: SIP/2.0/UDP 127.0.0.60:5060;branch=z9hG4bK-w0-abc;received=127.0.0.60, SIP/2.0/UDP 127.0.0.61:5060;branch=z9hG4bK-1-0;rport=5060;received=127.0.0.61',
    'From: "Phone 1001" <sip:1001@127.0.0.1>;tag=42SIPpTag001',
    'To: <sip:01144201234567@127.0.0.2>;tag=77SIPpTag011',
    'Call-ID: 1-42@127.0.0.61',
    'CSeq: 1 INVITE',
    'Record-Route: <sip:127.0.0.60:5060;transport=udp;lr>',
    'Contact: <sip:asterisk@127.0.0.2:5060>',
    'Content-Length: 0',
  ]),
  bye: crlf([
    'BYE sip:asterisk@127.0.0.2:5060 SIP/2.0',
    'v: SIP/2.0/TCP 127.0.0.61:5061;branch=z9hG4bK-2',
    'f: <sip:1001@127.0.0.1>;tag=a',
    't: Asterisk <sip:01144201234567@127.0.0.2>;tag=b',
    'i: 1-42@127.0.0.61',
    'CSeq: 2 BYE',
    'Route: <sip:127.0.0.60:5060;transport=tcp;lr>, <sip:127.0.0.60;lr>',
    'Route: <tel:+4420>',
    'X-Custom: one',
    'x-custom: two',
    'l: 0',
  ]),
  register: crlf([
    'REGISTER sip:127.0.0.60 SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.61:5060;branch=z9hG4bK-3;rport',
    'From: <sip:1001@127.0.0.60>;tag=r1',
    'To: <sip:1001@127.0.0.60>',
    'Call-ID: reg-1',
    'CSeq: 2 REGISTER',
    'Contact: <sip:1001@127.0.0.61:5060>;expires=300;+sip.instance="<urn:uuid:1>", sip:1001@127.0.0.62;q=0.5',
    'Authorization: Digest username="1001", realm="sip-drouter", nonce="abc", uri="sip:127.0.0.60", response="0123", algorithm=MD5, cnonce="x", qop=auth, nc=00000001',
    'Expires: 300',
    'Content-Length: 0',
  ]),
  challenge: crlf([
    'SIP/2.0 401 Unauthorized',
    'Via: SIP/2.0/UDP 127.0.0.61:5060;branch=z9hG4bK-3',
    'From: <sip:1001@127.0.0.60>;tag=r1',
    'To: <sip:1001@127.0.0.60>;tag=s1',
    'Call-ID: reg-1',
    'CSeq: 1 REGISTER',
    'WWW-Authenticate: Digest realm="sip-drouter", nonce="n1", qop="auth", algorithm=SHA-256',
    'WWW-Authenticate: Digest realm="sip-drouter", nonce="n2", qop="auth", algorithm=MD5',
    'Content-Length: 0',
  ]),
};
