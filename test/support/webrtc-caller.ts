import { hostText } from '../../src/sip/endpoint.js';
import { type Call, inviteFrom } from './calling-phone.js';
import { header } from './message-text.js';
import { sipRequest, type UdpPeer } from './udp-peer.js';

/**
 * A WebRTC offer as an Asterisk with `webrtc=yes` sends one to a browser
 * phone: DTLS-SRTP (UDP/TLS/RTP/SAVPF), ICE credentials and one host
 * candidate, Opus, rtcp-mux. A browser refuses a plain RTP/AVP offer before
 * it could answer; this one it accepts (no media ever flows: nothing answers
 * the ICE checks at the candidate).
 */
function webRtcOffer(address: string): string {
  const fingerprint = Array.from({ length: 32 }, (_, index) => ((index * 37 + 11) % 256).toString(16).padStart(2, '0').toUpperCase()).join(':');
  return [
    'v=0',
    `o=- 1 1 IN IP4 ${address}`,
    's=Asterisk',
    `c=IN IP4 ${address}`,
    't=0 0',
    'a=group:BUNDLE 0',
    'm=audio 4000 UDP/TLS/RTP/SAVPF 111',
    'a=mid:0',
    'a=rtpmap:111 opus/48000/2',
    'a=rtcp-mux',
    'a=sendrecv',
    'a=ice-ufrag:drouterAsterisk',
    'a=ice-pwd:drouterAsteriskIcePassword0',
    `a=fingerprint:sha-256 ${fingerprint}`,
    'a=setup:actpass',
    `a=candidate:1 1 udp 2130706431 ${address} 4000 typ host`,
    '',
  ].join('\r\n');
}

/** inviteFrom's INVITE from `peer` (a trusted Asterisk, UDP) to `number` through `proxy`, with a WebRTC offer and From `caller`. */
export function webRtcInviteFrom(peer: UdpPeer, proxy: string, number: string, caller: string): Call {
  const call = inviteFrom(peer, proxy, number);
  const head = call.invite.slice(0, call.invite.indexOf('\r\nContent-Length:')).replace('<sip:1001@127.0.0.1>', `<sip:${caller}@127.0.0.1>`);
  return { ...call, invite: sipRequest(head.split('\r\n'), webRtcOffer(hostText(peer.address.address))) };
}

/**
 * The caller's request within the dialog its INVITE's 2xx `ok` set up (RFC
 * 3261 §12.2.1.1): to the callee's Contact, along the route set (the 2xx's
 * Record-Route reversed), the 2xx's To with its tag. An ACK takes the
 * INVITE's CSeq number (§13.2.2.4).
 */
export function inDialogRequest(method: 'ACK' | 'BYE', call: Call, ok: string, peer: UdpPeer, cseq: number): string {
  const target = /^Contact:\s*[^<\r\n]*<([^>]+)>/im.exec(ok)?.[1];
  if (!target) throw new Error(`no Contact in the 2xx: ${ok}`);
  const routeSet = header(ok, 'Record-Route').join(', ').split(/,\s*(?=<)/).reverse();
  const address = hostText(peer.address.address);
  return sipRequest([
    `${method} ${target} SIP/2.0`,
    `Via: SIP/2.0/UDP ${address}:${peer.address.port};branch=z9hG4bK-${method.toLowerCase()}-${call.fromTag}-${cseq};rport`,
    'Max-Forwards: 70',
    `Route: ${routeSet.join(', ')}`,
    /^From:.*$/im.exec(call.invite)?.[0] ?? '',
    /^To:.*$/im.exec(ok)?.[0] ?? '',
    `Call-ID: ${call.callId}`,
    `CSeq: ${cseq} ${method}`,
  ]);
}

