import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sip, { type Message } from 'sip';
import { describe, expect, it } from 'vitest';
import { splitHead } from '../../../../src/sip/core/message-head.js';
import { parseMessage } from '../../../../src/sip/native/parse-message.js';
import { checkRawRequest } from '../../../../src/sip/core/raw-request-check.js';
import { crlf, TRAFFIC } from '../../../support/sip-messages.js';
import { REPO_ROOT } from '../../../support/repo-root.js';

const DATA = join(REPO_ROOT, 'test', 'data', 'rfc4475');
const read = (file: string) => readFileSync(join(DATA, file)).toString('latin1');

/**
 * The RFC 4475 messages the proxy parses: the well-formed ones (the others
 * get their 400 from the raw check first), but esc02, where sip.parse
 * unescaped the method and a header name (its own test below).
 */
const rfc4475 = readdirSync(DATA)
  .filter((file) => file.endsWith('.dat') && file !== 'esc02.dat')
  .map((file) => [file, read(file)] as const)
  .filter(([, text]) => text.startsWith('SIP/') || checkRawRequest(splitHead(text), 'udp') === undefined);

/** `sip.parse`'s output where ours differs on purpose: a Route URI that is not sip: stays text instead of undefined. */
function expectedOf(text: string): Message | undefined {
  const expected = sip.parse(text);
  for (const name of ['route', 'record-route', 'path'] as const) {
    const entries = expected?.headers[name] as { uri?: unknown }[] | undefined;
    const written = splitHead(text)
      .headers.filter((header) => header.name === name)
      .flatMap((header) => [...header.value.matchAll(/<([^>]*)>/g)].map((m) => m[1]));
    entries?.forEach((entry, index) => {
      if (entry.uri === undefined) entry.uri = written[index];
    });
  }
  return expected;
}

describe('the native engine parser', () => {
  it.each(Object.entries(TRAFFIC))('reads %s as sip.parse does', (_name, text) => {
    expect(parseMessage(splitHead(text))).toEqual(expectedOf(text));
  });

  it.each(rfc4475)('reads RFC 4475 %s as sip.parse does', (_file, text) => {
    const unfolded = text.includes('\r\n ') || text.includes('\r\n\t');
    const ours = parseMessage(splitHead(text));
    if (unfolded) {
      // Folded lines: ours joins them with one space, sip.parse kept the line break; compare what the proxy reads.
      expect(ours?.headers.via).toEqual(sip.parse(text)?.headers.via);
      expect(ours?.headers['call-id']).toBe(sip.parse(text)?.headers['call-id']);
      return;
    }
    expect(ours).toEqual(expectedOf(text));
  });

  it('reads Contact: * as the wildcard, not as a contact whose URI is *', () => {
    const text = TRAFFIC.register?.replace(/Contact: [^\r]*/, 'Contact: *') ?? '';
    expect(parseMessage(splitHead(text))?.headers.contact).toBe('*');
  });

  it('keeps a % that is no escape in the method and header names (RFC 4475 §3.1.1.5)', () => {
    const message = parseMessage(splitHead(read('esc02.dat')));
    expect([message?.method, message?.headers.cseq?.method, message?.headers['c%6fntact']]).toEqual([
      'RE%47IST%45R',
      'RE%47IST%45R',
      '<sip:alias2@host2.example.com>',
    ]);
    expect(message?.headers.contact).toHaveLength(2);
  });

  it('keeps IPv6 references in Via hosts and parameters', () => {
    const text =
      TRAFFIC.register?.replace(
        /Via: [^\r]*/,
        'Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK-3;received=[2001:db8::1]',
      ) ?? '';
    const via = parseMessage(splitHead(text))?.headers.via?.[0];
    expect(via).toEqual({
      version: '2.0',
      protocol: 'UDP',
      host: '[2001:db8::1]',
      port: 5060,
      params: { branch: 'z9hG4bK-3', received: '[2001:db8::1]' },
    });
  });

  it('drops a message without the blank line that ends its head, and one that is neither request nor response', () => {
    expect(parseMessage(splitHead('OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n'))).toBeUndefined();
    expect(parseMessage(splitHead('hello there\r\n\r\n'))).toBeUndefined();
  });

  it('takes the body up to Content-Length, and all of it without one', () => {
    const withLength = parseMessage(splitHead(crlf(['MESSAGE sip:a SIP/2.0', 'Content-Length: 3'], 'abcdef')));
    const without = parseMessage(splitHead(crlf(['MESSAGE sip:a SIP/2.0'], 'abcdef')));
    expect([withLength?.content, without?.content]).toEqual(['abc', 'abcdef']);
  });
});
