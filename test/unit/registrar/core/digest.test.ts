import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findViolations } from '../../../support/architecture.js';
import {
  challenges,
  checkNonce,
  computeHa1,
  type DigestCredentials,
  makeNonce,
  type NonceContext,
  parseAuthorization,
  verifyDigest,
} from '../../../../src/registrar/core/digest.js';
import { REPO_ROOT } from '../../../support/repo-root.js';

/** Published vectors, kept as data: the header as sent, the password, the method. */
const VECTORS = [
  {
    name: 'RFC 2617 §3.5 (MD5, qop=auth)',
    password: 'Circle Of Life',
    method: 'GET',
    header: [
      'Digest username="Mufasa",',
      ' realm="testrealm@host.com",',
      ' nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",',
      ' uri="/dir/index.html",',
      ' qop=auth,',
      ' nc=00000001,',
      ' cnonce="0a4f113b",',
      ' response="6629fae49393a05397450978507c4ef1",',
      ' opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    ].join('\r\n'),
    expected: {
      username: 'Mufasa',
      realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      uri: '/dir/index.html',
      response: '6629fae49393a05397450978507c4ef1',
      algorithm: 'MD5',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
      opaque: '5ccc069c403ebaf9f0171e9517f40e41',
    },
  },
  ...(['MD5', 'SHA-256'] as const).map((algorithm) => {
    const response =
      algorithm === 'MD5'
        ? '8ca523f5e9506fed4657c9700eebdbec'
        : '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1';
    return {
      name: `RFC 7616 §3.9.1 (${algorithm})`,
      password: 'Circle of Life',
      method: 'GET',
      header: [
        'Digest username="Mufasa",',
        '    realm="http-auth@example.org",',
        '    uri="/dir/index.html",',
        `    algorithm=${algorithm},`,
        '    nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",',
        '    nc=00000001,',
        '    cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",',
        '    qop=auth,',
        `    response="${response}",`,
        '    opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
      ].join('\r\n'),
      expected: {
        username: 'Mufasa',
        realm: 'http-auth@example.org',
        nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
        uri: '/dir/index.html',
        response,
        algorithm,
        qop: 'auth',
        nc: '00000001',
        cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
        opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
      },
    };
  }),
] as const;

function parsed(header: string): DigestCredentials {
  const credentials = parseAuthorization(header);
  if (!credentials) throw new Error(`did not parse: ${header}`);
  return credentials;
}

function ha1Of(credentials: DigestCredentials, password: string): string {
  return computeHa1(credentials.algorithm, credentials.username, credentials.realm, password);
}

describe('verifyDigest on the RFC examples', () => {
  it.each(VECTORS)('$name parses to the published fields', ({ header, expected }) => {
    expect(parseAuthorization(header)).toEqual(expected);
  });

  it.each(VECTORS)(
    '$name verifies with the password and with an upper-case response',
    ({ header, password, method }) => {
      const credentials = parsed(header);
      const ha1 = ha1Of(credentials, password);
      expect([
        verifyDigest(credentials, method, ha1),
        verifyDigest({ ...credentials, response: credentials.response.toUpperCase() }, method, ha1.toUpperCase()),
      ]).toEqual([true, true]);
    },
  );

  it.each(VECTORS)('$name fails when one input changes', ({ header, password, method }) => {
    const credentials = parsed(header);
    const ha1 = ha1Of(credentials, password);
    const shortResponse = credentials.response.slice(0, -1);
    expect({
      password: verifyDigest(credentials, method, ha1Of(credentials, `${password}!`)),
      method: verifyDigest(credentials, 'POST', ha1),
      uri: verifyDigest({ ...credentials, uri: '/dir/index.htm' }, method, ha1),
      nc: verifyDigest({ ...credentials, nc: '00000002' }, method, ha1),
      cnonce: verifyDigest({ ...credentials, cnonce: 'x' }, method, ha1),
      nonce: verifyDigest({ ...credentials, nonce: 'x' }, method, ha1),
      noQop: verifyDigest({ ...credentials, qop: undefined }, method, ha1),
      otherAlgorithm: verifyDigest(
        { ...credentials, algorithm: credentials.algorithm === 'MD5' ? 'SHA-256' : 'MD5' },
        method,
        ha1,
      ),
      shortResponse: verifyDigest({ ...credentials, response: shortResponse }, method, ha1),
      nonHexResponse: verifyDigest({ ...credentials, response: `${shortResponse}g` }, method, ha1),
      badHa1: verifyDigest(credentials, method, 'not a digest'),
      qopWithoutNc: verifyDigest({ ...credentials, nc: undefined }, method, ha1),
    }).toEqual({
      password: false,
      method: false,
      uri: false,
      nc: false,
      cnonce: false,
      nonce: false,
      noQop: false,
      otherAlgorithm: false,
      shortResponse: false,
      nonHexResponse: false,
      badHa1: false,
      qopWithoutNc: false,
    });
  });

  it('computes HA1 as the RFC 7616 intermediate values', () => {
    const md5 = createHash('md5').update('Mufasa:http-auth@example.org:Circle of Life').digest('hex');
    const sha256 = createHash('sha256').update('Mufasa:http-auth@example.org:Circle of Life').digest('hex');
    expect([
      computeHa1('MD5', 'Mufasa', 'http-auth@example.org', 'Circle of Life'),
      computeHa1('SHA-256', 'Mufasa', 'http-auth@example.org', 'Circle of Life'),
    ]).toEqual([md5, sha256]);
  });

  it('accepts an Asterisk md5secret, which is an MD5 HA1', () => {
    const credentials = parsed(VECTORS[0].header);
    const md5secret = createHash('md5').update('Mufasa:testrealm@host.com:Circle Of Life').digest('hex');
    expect(verifyDigest(credentials, 'GET', md5secret)).toBe(true);
  });
});

describe('verifyDigest refuses an answer without qop (RFC 2069)', () => {
  // We always offer qop="auth" (RFC 3261 §22.4 item 8); an answer without it carries no nonce count,
  // so a captured one could be replayed with another Call-ID and Contact until its nonce goes stale.
  it('even when its response is right for the password (RFC 2069 §2.4 example, as corrected by its errata)', () => {
    const credentials = parsed(
      'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", response="1949323746fe6a43ef61f9606e7febea", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    );
    const md5 = (text: string) => createHash('md5').update(text).digest('hex');
    const ha1 = computeHa1('MD5', 'Mufasa', 'testrealm@host.com', 'CircleOfLife');
    // The response is the RFC 2069 one for this password: only the missing qop makes it fail.
    expect(credentials.response).toBe(md5(`${ha1}:${credentials.nonce}:${md5('GET:/dir/index.html')}`));
    expect([credentials.qop, verifyDigest(credentials, 'GET', ha1)]).toEqual([undefined, false]);
  });
});

describe('stateless nonces', () => {
  const issuedAt = new Date('2026-03-01T12:00:00.000Z');
  const base: NonceContext = { secret: 'shared-secret', now: issuedAt, source: '192.0.2.10', lifetimeSeconds: 300 };
  const nonce = makeNonce(base);
  const later = (seconds: number) => new Date(issuedAt.getTime() + seconds * 1000);
  const tampered = `${nonce.slice(0, 10)}${nonce[10] === 'A' ? 'B' : 'A'}${nonce.slice(11)}`;

  it('differs by salt, and each salted nonce checks out', () => {
    const first = makeNonce({ ...base, salt: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) });
    const second = makeNonce({ ...base, salt: Uint8Array.from([8, 7, 6, 5, 4, 3, 2, 1]) });
    expect(first).not.toBe(second);
    expect([checkNonce(first, base), checkNonce(second, base)]).toEqual(['valid', 'valid']);
  });

  it('is base64url and the same for the same time and source', () => {
    expect([
      /^[A-Za-z0-9_-]+$/.test(nonce),
      makeNonce(base) === nonce,
      makeNonce({ ...base, source: '192.0.2.11' }) === nonce,
    ]).toEqual([true, true, false]);
  });

  it.each([
    { case: 'at once', nonce, context: base, expected: 'valid' },
    { case: 'at the end of its lifetime', nonce, context: { ...base, now: later(300) }, expected: 'valid' },
    { case: 'on a peer 5 s behind (clock skew)', nonce, context: { ...base, now: later(-5) }, expected: 'valid' },
    { case: 'one second after its lifetime', nonce, context: { ...base, now: later(301) }, expected: 'stale' },
    { case: 'a day later', nonce, context: { ...base, now: later(86_400) }, expected: 'stale' },
    { case: 'from another source', nonce, context: { ...base, source: '192.0.2.11' }, expected: 'invalid' },
    {
      case: 'stale and from another source',
      nonce,
      context: { ...base, source: '192.0.2.11', now: later(301) },
      expected: 'invalid',
    },
    { case: 'with another secret', nonce, context: { ...base, secret: 'other-secret' }, expected: 'invalid' },
    { case: 'from more than 5 s in the future', nonce, context: { ...base, now: later(-6) }, expected: 'invalid' },
    { case: 'with a tampered character', nonce: tampered, context: base, expected: 'invalid' },
    {
      case: 'with spare bits changed in the last character',
      nonce: `${nonce.slice(0, -1)}${nonce.endsWith('A') ? 'B' : 'A'}`,
      context: base,
      expected: 'invalid',
    },
    { case: 'with a character appended', nonce: `${nonce}A`, context: base, expected: 'invalid' },
    {
      case: 'with an invalid character inserted',
      nonce: `${nonce.slice(0, 5)}!${nonce.slice(5)}`,
      context: base,
      expected: 'invalid',
    },
    { case: 'truncated', nonce: nonce.slice(0, -4), context: base, expected: 'invalid' },
    { case: 'empty', nonce: '', context: base, expected: 'invalid' },
    { case: 'garbage', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', context: base, expected: 'invalid' },
  ] as const)('is $expected $case', ({ nonce: candidate, context, expected }) => {
    expect(checkNonce(candidate, context)).toBe(expected);
  });

  it('is invalid when a forger moves its time forward (the MAC covers the time)', () => {
    const bytes = Buffer.from(nonce, 'base64url');
    bytes.writeUIntBE(bytes.readUIntBE(0, 6) + 1000, 0, 6);
    expect(checkNonce(bytes.toString('base64url'), { ...base, now: later(1000) })).toBe('invalid');
  });

  it('is verified by the other node of an HA pair that shares the secret', () => {
    const fromNodeA = makeNonce({ secret: 'pair-secret', now: issuedAt, source: '2001:db8::1' });
    expect(
      checkNonce(fromNodeA, { secret: 'pair-secret', now: later(10), source: '2001:db8::1', lifetimeSeconds: 32 }),
    ).toBe('valid');
  });

  it.each([
    { case: 'an invalid Date', call: () => makeNonce({ ...base, now: new Date(Number.NaN) }) },
    { case: 'an empty secret', call: () => makeNonce({ ...base, secret: '' }) },
    { case: 'a negative lifetime', call: () => checkNonce(nonce, { ...base, lifetimeSeconds: -1 }) },
  ])('throws a RangeError on a caller bug: $case', ({ call }) => {
    expect(call).toThrow(RangeError);
  });
});

describe('parseAuthorization', () => {
  const minimal = 'username="alice", realm="example.com", nonce="n", uri="sip:example.com", response="0123"';

  it('reads lower- and mixed-case scheme and field names, unquoted values and extra whitespace', () => {
    expect(
      parseAuthorization(
        'digest  USERNAME = "alice" ,Realm="example.com",NONCE="abc=/+",Uri=sip:example.com, Response=0123, ALGORITHM="sha-256", QOP="AUTH", NC=0000000a, CNONCE=xyz,',
      ),
    ).toEqual({
      username: 'alice',
      realm: 'example.com',
      nonce: 'abc=/+',
      uri: 'sip:example.com',
      response: '0123',
      algorithm: 'SHA-256',
      qop: 'auth',
      nc: '0000000a',
      cnonce: 'xyz',
      opaque: undefined,
    });
  });

  it.each([
    {
      case: 'an escaped quote',
      header: String.raw`Digest username="al\"ice", realm="r", nonce="n", uri="u", response="0"`,
      username: 'al"ice',
    },
    {
      case: 'an escaped backslash',
      header: String.raw`Digest username="dom\\alice", realm="r", nonce="n", uri="u", response="0"`,
      username: String.raw`dom\alice`,
    },
    {
      case: 'a comma and an equals sign',
      header: 'Digest username="a,b=c", realm="r", nonce="n", uri="u", response="0"',
      username: 'a,b=c',
    },
    {
      case: 'an empty string',
      header: 'Digest username="", realm="r", nonce="n", uri="u", response="0"',
      username: '',
    },
  ])('unescapes a quoted username with $case', ({ header, username }) => {
    expect(parseAuthorization(header)?.username).toBe(username);
  });

  it('keeps unknown fields out and defaults to MD5 without qop', () => {
    const credentials = parseAuthorization(`Digest ${minimal}, foo="bar", userhash=false, auth-param=token`);
    expect(credentials).toEqual({
      username: 'alice',
      realm: 'example.com',
      nonce: 'n',
      uri: 'sip:example.com',
      response: '0123',
      algorithm: 'MD5',
      qop: undefined,
      nc: undefined,
      cnonce: undefined,
      opaque: undefined,
    });
  });

  it.each([
    { case: 'another scheme', header: 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==' },
    { case: 'a scheme that only starts with Digest', header: `DigestX ${minimal}` },
    { case: 'no parameters', header: 'Digest' },
    { case: 'an empty value', header: '' },
    { case: 'a missing username', header: 'Digest realm="r", nonce="n", uri="u", response="0"' },
    { case: 'a missing realm', header: 'Digest username="a", nonce="n", uri="u", response="0"' },
    { case: 'a missing nonce', header: 'Digest username="a", realm="r", uri="u", response="0"' },
    { case: 'a missing uri', header: 'Digest username="a", realm="r", nonce="n", response="0"' },
    { case: 'a missing response', header: 'Digest username="a", realm="r", nonce="n", uri="u"' },
    { case: 'algorithm MD5-sess', header: `Digest ${minimal}, algorithm=MD5-sess` },
    { case: 'algorithm SHA-512-256', header: `Digest ${minimal}, algorithm=SHA-512-256` },
    { case: 'algorithm AKAv1-MD5', header: `Digest ${minimal}, algorithm=AKAv1-MD5` },
    { case: 'qop auth-int', header: `Digest ${minimal}, qop=auth-int, nc=00000001, cnonce="c"` },
    { case: 'qop auth without nc', header: `Digest ${minimal}, qop=auth, cnonce="c"` },
    { case: 'qop auth without cnonce', header: `Digest ${minimal}, qop=auth, nc=00000001` },
    { case: 'an nc that is not 8 hex digits', header: `Digest ${minimal}, qop=auth, nc=1, cnonce="c"` },
    { case: 'userhash=true', header: `Digest ${minimal}, userhash=true` },
    { case: 'a repeated field', header: `Digest ${minimal}, username="mallory"` },
    { case: 'an unterminated quoted string', header: 'Digest username="a, realm="r", nonce="n", uri="u", response="0' },
    { case: 'a field without a value', header: `Digest ${minimal}, opaque` },
    { case: 'two values without a comma', header: 'Digest username="a" realm="r", nonce="n", uri="u", response="0"' },
    { case: 'garbage', header: 'Digest ==,,"' },
  ])('is undefined for $case', ({ header }) => {
    expect(parseAuthorization(header)).toBeUndefined();
  });
});

describe('challenges', () => {
  it('writes SHA-256 then MD5, qop="auth", with stale=true', () => {
    expect(challenges('sip.example.com', 'bm9uY2U', ['SHA-256', 'MD5'], true)).toEqual([
      'Digest realm="sip.example.com", nonce="bm9uY2U", algorithm=SHA-256, qop="auth", stale=true',
      'Digest realm="sip.example.com", nonce="bm9uY2U", algorithm=MD5, qop="auth", stale=true',
    ]);
  });

  it('leaves stale out when false, keeps the given order and escapes the realm', () => {
    expect(challenges('a"b\\c', 'n', ['MD5'], false)).toEqual([
      'Digest realm="a\\"b\\\\c", nonce="n", algorithm=MD5, qop="auth"',
    ]);
  });

  it('round-trips through parseAuthorization as a client would echo it', () => {
    const [challenge] = challenges('a"b\\c', 'n', ['SHA-256'], false);
    const echoed = `${challenge?.replace(', qop="auth"', '')}, username="u", uri="sip:x", response="0"`;
    expect(parseAuthorization(echoed ?? '')).toMatchObject({
      realm: 'a"b\\c',
      nonce: 'n',
      algorithm: 'SHA-256',
      qop: undefined,
    });
  });
});

describe('purity of the digest module', () => {
  const files = ['src/registrar/core/digest.ts', 'src/registrar/core/digest-header.ts'].map((path) => ({
    path,
    text: readFileSync(join(REPO_ROOT, path), 'utf8'),
  }));

  it.each(files)(
    '$path imports only createHash, createHmac and timingSafeEqual from node:crypto, else relative files',
    ({ text }) => {
      const imports = [...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'/gms)].map((match) => ({
        statement: match[0],
        specifier: match[1] ?? '',
      }));
      const outside = imports.filter(({ specifier }) => !specifier.startsWith('./'));
      const named = outside.flatMap(
        ({ statement }) =>
          /^import\s*\{([^}]*)\}/
            .exec(statement)?.[1]
            ?.split(',')
            .map((name) => name.trim()) ?? ['(not named)'],
      );
      expect({ specifiers: [...new Set(outside.map(({ specifier }) => specifier))], named }).toEqual({
        specifiers: outside.length === 0 ? [] : ['node:crypto'],
        named: named.filter((name) => ['createHash', 'createHmac', 'timingSafeEqual'].includes(name)),
      });
    },
  );

  it('reads no clock, randomness or environment', () => {
    const violations = findViolations(files).filter((violation) => !violation.includes('imports node:crypto'));
    expect(violations).toEqual([]);
  });
});
