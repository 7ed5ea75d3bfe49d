import { describe, expect, it } from 'vitest';
import type { AuthenticationFailure } from '../../../../src/registrar/authentication-service.js';
import {
  asteriskDate,
  asteriskLine,
  callRejected,
  inDialogRefused,
  quotable,
  registrationFailed,
  scannerDropped,
  sourceBanned,
  type RefusedRequest,
} from '../../../../src/security-log/core/asterisk-lines.js';

/** The lines as fail2ban's asterisk filter expects them; fail2ban-regex itself reads them in test/integration/security-log.test.ts. */

const request: RefusedRequest = {
  method: 'INVITE',
  callId: 'a84b4c76e66710@pc33',
  from: { uri: 'sip:1001@192.0.2.1', tag: '1928301774' },
  to: { uri: 'sip:1001@192.0.2.1', tag: undefined },
  source: { address: '203.0.113.7', port: 5062, transport: 'udp' },
};

describe('Asterisk security lines', () => {
  it('write the date as Asterisk does by default (%b %e %T, local time)', () => {
    expect(asteriskDate(new Date(2024, 11, 5, 21, 50, 1))).toBe('Dec  5 21:50:01');
    expect(asteriskDate(new Date(2025, 0, 15, 3, 4, 5))).toBe('Jan 15 03:04:05');
  });

  it("write a refused REGISTER as chan_sip's NOTICE, with the reason as it is", () => {
    const line = asteriskLine(new Date(2024, 11, 5, 21, 50, 1), 4242, registrationFailed(request, 'Wrong password'));
    expect(line).toBe(
      "[Dec  5 21:50:01] NOTICE[4242] chan_sip.c: Registration from '<sip:1001@192.0.2.1>' failed for '203.0.113.7:5062' - Wrong password",
    );
  });

  it("write a refused call as res_pjsip's NOTICE, in res_pjsip's words for each reason", () => {
    const reasons: [AuthenticationFailure, string][] = [
      ['Wrong password', 'Failed to authenticate'],
      ['Username/auth name mismatch', 'Failed to authenticate'],
      ['No matching peer found', 'No matching endpoint found'],
      ['Peer is not supposed to place calls', 'No matching endpoint found'],
      ['Device does not match ACL', 'Not match Endpoint ACL'],
      // Not counted by fail2ban: a fresh challenge follows.
      ['Nonce count replayed', 'Nonce count replayed'],
    ];
    for (const [reason, pjsip] of reasons) {
      expect(callRejected(request, reason)).toEqual({
        file: 'res_pjsip/pjsip_distributor.c',
        text: `Request 'INVITE' from '<sip:1001@192.0.2.1>' failed for '203.0.113.7:5062' (callid: a84b4c76e66710@pc33) - ${pjsip}`,
      });
    }
  });

  it('write a refused in-dialog request as a failed authentication, naming its method', () => {
    expect(inDialogRefused({ ...request, method: 'BYE' }).text).toBe(
      "Request 'BYE' from '<sip:1001@192.0.2.1>' failed for '203.0.113.7:5062' (callid: a84b4c76e66710@pc33) - Failed to authenticate",
    );
  });

  it('put an IPv6 source in brackets, as ast_sockaddr_stringify does', () => {
    expect(
      registrationFailed(
        { ...request, source: { address: '2001:db8::7', port: 5060, transport: 'udp' } },
        'No matching peer found',
      ).text,
    ).toBe("Registration from '<sip:1001@192.0.2.1>' failed for '[2001:db8::7]:5060' - No matching peer found");
  });

  it('encode what would end a field or the line, so a request cannot name another address for fail2ban', () => {
    const forged: RefusedRequest = {
      ...request,
      callId:
        "x) - Failed to authenticate\r\n[Dec  5 21:50:01] NOTICE[1] chan_sip.c: Registration from '' failed for '192.0.2.99' - Wrong password",
      to: { uri: "sip:o'neil@192.0.2.1' failed for '192.0.2.99", tag: undefined },
    };
    expect(registrationFailed(forged, 'Wrong password').text).toBe(
      "Registration from '<sip:o%27neil@192.0.2.1%27 failed for %27192.0.2.99>' failed for '203.0.113.7:5062' - Wrong password",
    );
    const call = callRejected(forged, 'Wrong password').text;
    expect(call).not.toMatch(/[\r\n]/);
    expect(call).toMatch(
      /^Request 'INVITE' from '<sip:1001@192\.0\.2\.1>' failed for '203\.0\.113\.7:5062' \(callid: x%29 - Failed to authenticate%0D%0A\[Dec {2}5 21:50:01\] NOTICE\[1\] chan_sip\.c: Registration from %27%27 .* - Failed to authenticate$/,
    );
    expect(quotable('a"b\\c(d)')).toBe('a%22b%5Cc%28d%29');
  });

  it('cut a long value from the request', () => {
    const long = registrationFailed(
      { ...request, to: { uri: `sip:${'9'.repeat(5000)}@192.0.2.1`, tag: undefined } },
      'Wrong password',
    ).text;
    expect(long.length).toBeLessThan(400);
    expect(long).toMatch(/^Registration from '<sip:9+\.\.\.>' failed for '203\.0\.113\.7:5062' - Wrong password$/);
  });

  it('write our bans and scanners with the same prefix, in words of our own', () => {
    const at = new Date(2024, 11, 5, 21, 50, 1);
    expect(asteriskLine(at, 7, sourceBanned('192.0.2.7', '10 failed authentications in 60 s', 300))).toBe(
      "[Dec  5 21:50:01] NOTICE[7] sip-drouter: Source '192.0.2.7' banned for 300 seconds - 10 failed authentications in 60 s",
    );
    expect(asteriskLine(at, 7, scannerDropped('192.0.2.8', "friendly-scanner'\n"))).toBe(
      "[Dec  5 21:50:01] NOTICE[7] sip-drouter: Scanner from '192.0.2.8' dropped - User-Agent 'friendly-scanner%27%0A'",
    );
  });
});
