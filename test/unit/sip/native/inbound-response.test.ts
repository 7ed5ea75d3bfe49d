import { describe, expect, it } from 'vitest';
import { splitHead } from '../../../../src/sip/core/message-head.js';
import { ParsedResponse, scanResponse } from '../../../../src/sip/native/inbound-response.js';
import { parseMessage } from '../../../../src/sip/native/parse-message.js';
import { TRAFFIC } from '../../../support/sip-messages.js';

/** A gateway's answer as it reaches us: our Via on top, on a line of its own. */
const OK_WITH_SDP = TRAFFIC.answer ?? '';

/** What the proxy reads of a relayed text: the parsed message. */
const readBack = (text: string) => parseMessage(splitHead(text));

describe('the response head scan', () => {
  it('reads status, reason, branch and CSeq method as the full parse does', () => {
    const scanned = scanResponse(OK_WITH_SDP);
    const parsed = new ParsedResponse(parseMessage(splitHead(OK_WITH_SDP)) ?? { version: '', headers: {} });
    expect(scanned && [scanned.status, scanned.reason, scanned.branch, scanned.method]).toEqual([
      parsed.status,
      parsed.reason,
      parsed.branch,
      parsed.method,
    ]);
    expect(scanned?.branch).toBe('z9hG4bKd41cfa0e5b2c83d1e7a0');
  });

  it('relays the response without its top Via line, everything else byte for byte', () => {
    const relayed = scanResponse(OK_WITH_SDP)?.relayText();
    expect(relayed).toBe(OK_WITH_SDP.replace(/Via: [^\r]*z9hG4bKd41cfa0e5b2c83d1e7a0[^\r]*\r\n/, ''));
    // The same message as the full parse writes it without the Via.
    expect(readBack(relayed ?? '')).toEqual(
      readBack(new ParsedResponse(readBack(OK_WITH_SDP) ?? { version: '', headers: {} }).relayText()),
    );
  });

  it('reads compact and odd-case header names (v, i, l) and spaces around colons', () => {
    const text = OK_WITH_SDP.replace('Via:', 'v :')
      .replace('Call-ID:', 'i:')
      .replace('CSeq:', 'cseq:  ')
      .replace('Content-Length: 31', 'l: 31');
    const scanned = scanResponse(text);
    expect([scanned?.branch, scanned?.method, scanned?.status]).toEqual(['z9hG4bKd41cfa0e5b2c83d1e7a0', 'INVITE', 200]);
    expect(scanned?.relayText().startsWith('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.61:5060')).toBe(true);
  });

  it('takes the parsed message on demand (the To of an ACK)', () => {
    expect(scanResponse(OK_WITH_SDP)?.message().headers.to?.params.tag).toBe('77SIPpTag011');
  });

  it.each([
    ['several Vias on the top line', TRAFFIC.ringing ?? ''],
    ['a folded top Via', OK_WITH_SDP.replace(';received=127.0.0.60', '\r\n ;received=127.0.0.60')],
    ['a body longer than its Content-Length', OK_WITH_SDP.replace('Content-Length: 31', 'Content-Length: 10')],
    ['no branch', OK_WITH_SDP.replace('branch=z9hG4bKd41cfa0e5b2c83d1e7a0;', '')],
    ['no Call-ID', OK_WITH_SDP.replace(/Call-ID: [^\r]*\r\n/, '')],
    ['no CSeq method', OK_WITH_SDP.replace('CSeq: 1 INVITE', 'CSeq: 1')],
    ['a status that is no number', OK_WITH_SDP.replace('200 OK', '2x0 OK')],
    ['no blank line', OK_WITH_SDP.slice(0, OK_WITH_SDP.indexOf('\r\n\r\n'))],
    ['a request', TRAFFIC.invite ?? ''],
  ])('leaves %s to the full parse', (_what, text) => {
    expect(scanResponse(text)).toBeUndefined();
  });

  it("relays a response with several Vias on one line by the full parse, keeping the caller's Via", () => {
    const parsed = readBack(TRAFFIC.ringing ?? '');
    const relayed = readBack(new ParsedResponse(parsed ?? { version: '', headers: {} }).relayText());
    expect(relayed?.headers.via?.map((via) => via.params.branch)).toEqual(['z9hG4bK-1-0']);
  });

  it('never reads a damaged response otherwise than the full parse: 3 000 copies with bytes flipped, cut or repeated', () => {
    let seed = 20;
    const random = (below: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % below;
    };
    let scanned = 0;
    for (let i = 0; i < 3000; i++) {
      let text = OK_WITH_SDP;
      for (let edit = 0; edit < 1 + random(3); edit++) {
        const at = random(text.length);
        const kind = random(3);
        if (kind === 0) text = text.slice(0, at) + String.fromCharCode(random(256)) + text.slice(at + 1);
        else if (kind === 1) text = text.slice(0, at) + text.slice(at + 1 + random(8));
        else text = text.slice(0, at) + text.slice(at, at + random(8)) + text.slice(at);
      }
      const scan = scanResponse(text);
      if (!scan) continue;
      scanned++;
      const parsed = parseMessage(splitHead(text));
      expect(parsed, JSON.stringify(text)).toBeDefined();
      const full = new ParsedResponse(parsed ?? { version: '', headers: {} });
      expect([scan.status, scan.branch, scan.method], text).toEqual([full.status, full.branch, full.method]);
      expect(readBack(scan.relayText())?.headers.via, text).toEqual(readBack(full.relayText())?.headers.via);
    }
    // Most damage misses what the scan reads: those copies were compared, not all turned away.
    expect(scanned).toBeGreaterThan(1000);
  });
});
