import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { forwardedMaxForwards, parseMaxForwards } from '../../../../src/sip/core/max-forwards.js';
import { splitHead } from '../../../../src/sip/core/message-head.js';
import { NativeRequest } from '../../../../src/sip/native/native-request.js';
import { parseMessage } from '../../../../src/sip/native/parse-message.js';
import { checkRawRequest } from '../../../../src/sip/core/raw-request-check.js';
import { checkRequest } from '../../../../src/sip/core/request-sanity.js';
import { REPO_ROOT } from '../../../support/repo-root.js';

const DATA = join(REPO_ROOT, 'test', 'data', 'rfc4475');
const LOCAL = { address: '127.0.0.1', port: 5060 };

/** A torture message as the proxy reads it, its Max-Forwards replaced by `maxForwards` when given. */
function request(file: string, maxForwards?: string): NativeRequest {
  const text = readFileSync(join(DATA, file)).toString('latin1');
  const changed = maxForwards === undefined ? text : text.replace(/^(max-forwards\s*:)[^\r]*/im, `$1 ${maxForwards}`);
  const message = parseMessage(splitHead(changed));
  if (!message) throw new Error(`${file} did not parse`);
  return new NativeRequest(message, { protocol: 'UDP', address: '127.0.0.2', port: 5060, local: LOCAL });
}

describe('Max-Forwards: 1*DIGIT, 0 to 255 (RFC 3261 §20.22)', () => {
  it.each([
    ['70', 70],
    ['0', 0],
    ['000', 0],
    ['0068', 68],
    ['255', 255],
    ['00000000000000000000000070', 70],
    [' 70 ', 70],
  ])('reads %j as %i', (value, hops) => {
    expect(parseMaxForwards(value)).toBe(hops);
  });

  it.each([
    '256',
    '1000',
    '99999999999999999999',
    '9'.repeat(400),
    '',
    ' ',
    '-1',
    '+5',
    '7 0',
    '0x10',
    '1e2',
    '68.0',
    '٦٨',
  ])('refuses %j', (value) => {
    expect(parseMaxForwards(value)).toBeUndefined();
  });

  it.each([
    ['0068', '67'],
    ['70', '69'],
    ['1', '0'],
    ['0', '0'],
    [undefined, '69'],
  ])('a request that came with %j is forwarded with %j', (value, forwarded) => {
    expect(forwardedMaxForwards(value)).toBe(forwarded);
  });
});

describe('RFC 4475 §3.1.1.1 wsinv (Max-Forwards: 0068) passes both checks', () => {
  it('is well-formed to the raw check and to the request sanity check', () => {
    const text = readFileSync(join(DATA, 'wsinv.dat')).toString('latin1');
    expect(text).toMatch(/^MaX-fOrWaRdS: 0068\r$/m);
    expect(checkRawRequest(splitHead(text), 'udp')).toBeUndefined();
    expect(checkRequest(request('wsinv.dat'), LOCAL)).toBeUndefined();
  });

  it('with a zero-padded 0 it is a request with no hops left: 483', () => {
    expect(checkRequest(request('wsinv.dat', '0000'), LOCAL)).toEqual({ status: 483, reason: 'Too Many Hops' });
  });

  it.each(['99999999999999999999', '256', '68a'])(
    'with %j it is refused: 400 Bad Max-Forwards, from both checks',
    (value) => {
      const text = readFileSync(join(DATA, 'wsinv.dat'))
        .toString('latin1')
        .replace('MaX-fOrWaRdS: 0068', `MaX-fOrWaRdS: ${value}`);
      expect(checkRawRequest(splitHead(text), 'udp')).toEqual({ status: 400, reason: 'Bad Max-Forwards' });
      expect(checkRequest(request('wsinv.dat', value), LOCAL)).toEqual({ status: 400, reason: 'Bad Max-Forwards' });
    },
  );
});
