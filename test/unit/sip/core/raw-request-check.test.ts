import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { splitHead } from '../../../../src/sip/core/message-head.js';
import { checkRawRequest, rawResponse } from '../../../../src/sip/core/raw-request-check.js';
import { REPO_ROOT } from '../../../support/repo-root.js';

const DATA = join(REPO_ROOT, 'test', 'data', 'rfc4475');
const read = (file: string) => readFileSync(join(DATA, file)).toString('latin1');

/** RFC 4475 requests that must get 400 from their raw text (INDEX.md), and why. */
const MALFORMED: Readonly<Record<string, string>> = {
  'badinv01.dat': 'Malformed Via: an empty parameter or list element',
  'clerr.dat': 'Content-Length Larger Than The Body',
  'ncl.dat': 'Bad Content-Length',
  'scalar02.dat': 'Bad CSeq',
  'quotbal.dat': 'Malformed To: unbalanced quotes',
  'ltgtruri.dat': 'Malformed Request-URI',
  'lwsruri.dat': 'Malformed Request-Line',
  'lwsstart.dat': 'Malformed Request-Line',
  'trws.dat': 'Malformed Request-Line',
  'escruri.dat': 'Request-URI With Headers',
  'badaspec.dat': 'Malformed To: spaces inside < >',
  'baddn.dat': 'Malformed From: a display name that needs quotes',
  'insuf.dat': 'Missing to',
  'multi01.dat': 'More Than One to',
  'mcl01.dat': 'More Than One content-length',
  'test.dat': 'Malformed Request-Line',
  'regbadct.dat': 'Malformed Contact: a URI with headers outside < >',
};

const requests = readdirSync(DATA).filter((file) => file.endsWith('.dat') && !read(file).startsWith('SIP/'));

describe('raw request checks on the RFC 4475 messages', () => {
  it.each(requests)('%s', (file) => {
    const verdict = checkRawRequest(splitHead(read(file)), 'udp');
    const expected = MALFORMED[file];
    expect(verdict?.reason).toBe(expected);
    if (expected) expect(verdict?.status).toBe(400);
  });

  it('rejects a header line without a colon, and still answers it from the other headers', () => {
    const text = [
      'REGISTER sip:127.0.0.1 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-nocolon',
      'From: <sip:1001@127.0.0.1>;tag=a',
      'To: <sip:1001@127.0.0.1>',
      'Call-ID: nocolon',
      'CSeq: 2 REGISTER',
      '1001[authentication username= password=secret]',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    const verdict = checkRawRequest(splitHead(text), 'udp');
    expect(verdict).toEqual({ status: 400, reason: 'Header Line Without A Colon' });
    expect(rawResponse(splitHead(text), verdict ?? { status: 0, reason: '' }, 'tag1')).toMatch(
      /^SIP\/2\.0 400 Header Line Without A Colon\r\nVia: SIP\/2\.0\/UDP 127\.0\.0\.2:5060;branch=z9hG4bK-nocolon\r\n/,
    );
  });

  it('builds a 400 from the raw headers, with a To tag, even without a Call-ID', () => {
    const response = rawResponse(splitHead(read('insuf.dat')), { status: 400, reason: 'Missing to' }, 'abc123');
    expect(response).toBe(
      'SIP/2.0 400 Missing to\r\nVia: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf\r\nCSeq: 193942 INVITE\r\nContent-Length: 0\r\n\r\n',
    );
    expect(rawResponse(splitHead(read('quotbal.dat')), { status: 400, reason: 'x' }, 'abc123')).toContain(
      'To: "Mr. J. User <sip:j.user@example.com>;tag=abc123\r\n',
    );
  });

  it('answers nothing to a response or to text without a Via', () => {
    expect(rawResponse(splitHead(read('bigcode.dat')), { status: 400, reason: 'x' }, 't')).toBeUndefined();
    expect(rawResponse(splitHead('hello there\r\n\r\n'), { status: 400, reason: 'x' }, 't')).toBeUndefined();
  });
});
