import { hostText } from '../../src/sip/core/endpoint.js';
import { escapeRegExp } from './regexp.js';
import { sipRequest, type UdpPeer } from './udp-peer.js';

/** A phone's call as sent: its Call-ID and the INVITE's text. */
export interface Call {
  callId: string;
  /** The From tag: the caller's half of the dialog id. */
  fromTag: string;
  invite: string;
}

let sequence = 0;

/** An INVITE from the UDP phone to `number` through the proxy at `proxy` (its address), with an SDP offer. */
export function inviteFrom(phone: UdpPeer, proxy: string, number: string): Call {
  sequence++;
  const { port } = phone.address;
  const address = hostText(phone.address.address);
  const callId = `call-${sequence}-${Date.now()}@${address}`;
  const fromTag = `ph-${sequence}`;
  const text = sipRequest(
    [
      `INVITE sip:${number}@${proxy} SIP/2.0`,
      `Via: SIP/2.0/UDP ${address}:${port};branch=z9hG4bK-inv-${sequence};rport`,
      'Max-Forwards: 70',
      `From: "Phone 1001" <sip:1001@127.0.0.1>;tag=${fromTag}`,
      `To: <sip:${number}@${proxy}>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:1001@${address}:${port}>`,
      'Content-Type: application/sdp',
    ],
    `v=0\r\no=- 1 1 IN IP4 ${address}\r\ns=-\r\nc=IN IP4 ${address}\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n`,
  );
  return { callId, fromTag, invite: text };
}

/** The caller's CANCEL of a call's INVITE (RFC 3261 §9.1: same Request-URI, Via, Call-ID, From, To, CSeq number). */
export function cancelOf(call: Call): string {
  return call.invite
    .replace(/^INVITE (\S+) SIP\/2\.0/, 'CANCEL $1 SIP/2.0')
    .replace('CSeq: 1 INVITE', 'CSeq: 1 CANCEL')
    .replace(/Content-Type: application\/sdp\r\n/, '')
    .replace(/Content-Length: \d+\r\n\r\n[\s\S]*$/, 'Content-Length: 0\r\n\r\n');
}

/** The call's INVITE again (CSeq 2) with a Proxy-Authorization line, From the `from` user (inviteFrom's is 1001). */
export function withProxyAuthorization(call: Call, authorization: string, from = '1001'): string {
  return call.invite
    .replace('CSeq: 1 INVITE', 'CSeq: 2 INVITE')
    .replace(/branch=[^;\r]+/, `branch=z9hG4bK-auth-${call.fromTag}`)
    .replace('<sip:1001@127.0.0.1>', `<sip:${from}@127.0.0.1>`)
    .replace('Content-Type: application/sdp', `${authorization}\r\nContent-Type: application/sdp`);
}

/** The ACK of a non-2xx final to `invite`: it ends that INVITE transaction (RFC 3261 §17.1.1.3): same branch, the final's To. */
export function ackOf(invite: string, final: string | undefined): string {
  const to = /^To:.*$/im.exec(final ?? '')?.[0] ?? '';
  return invite
    .replace(/^INVITE (\S+) SIP\/2\.0/, 'ACK $1 SIP/2.0')
    .replace(/^To:.*$/im, to)
    .replace('CSeq: 1 INVITE', 'CSeq: 1 ACK')
    .replace(/Content-Type: application\/sdp\r\n/, '')
    .replace(/Content-Length: \d+\r\n\r\n[\s\S]*$/, 'Content-Length: 0\r\n\r\n');
}

/** The final response to the call's INVITE (not to a CANCEL of it). */
export function finalResponse(phone: UdpPeer, call: Call, timeoutMs = 4000): Promise<string | undefined> {
  return phone.receive(
    new RegExp(`^SIP/2\\.0 [2-6]\\d\\d [\\s\\S]*Call-ID: ${escapeRegExp(call.callId)}\\r\\nCSeq: 1 INVITE`, 'i'),
    timeoutMs,
  );
}

/** A provisional response (100, 180) naming the call. */
export function provisionalResponse(phone: UdpPeer, call: Call, code: number): Promise<string | undefined> {
  return phone.receive(new RegExp(`^SIP/2\\.0 ${code} [\\s\\S]*${escapeRegExp(call.callId)}`));
}
