/**
 * The text of digest authentication: the WWW-Authenticate challenges we send
 * and the Authorization / Proxy-Authorization credentials we receive
 * (RFC 7616 §3.3-3.4, with the SIP rules of RFC 3261 §22.4 and RFC 8760).
 * Pure: strings in, data out.
 */

export type DigestAlgorithm = 'MD5' | 'SHA-256';

export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: DigestAlgorithm;
  qop: 'auth' | undefined;
  nc: string | undefined;
  cnonce: string | undefined;
  opaque: string | undefined;
}

/** WWW-Authenticate values, one per algorithm in the given order (RFC 8760: SHA-256 first, then MD5), qop="auth". */
export function challenges(
  realm: string,
  nonce: string,
  algorithms: readonly DigestAlgorithm[],
  stale: boolean,
): string[] {
  // RFC 3261 §22.4 item 8: a server MUST always send qop. RFC 7616 §3.3: stale=true
  // lets the client retry with the same password without asking the user.
  const tail = stale ? ', stale=true' : '';
  return algorithms.map(
    (algorithm) => `Digest realm=${quote(realm)}, nonce=${quote(nonce)}, algorithm=${algorithm}, qop="auth"${tail}`,
  );
}

/**
 * Parses one Authorization / Proxy-Authorization value with scheme Digest.
 * Undefined (not a throw) for anything else: another scheme, a missing
 * required field, a repeated field, an algorithm other than MD5/SHA-256
 * (absent = MD5), qop other than auth, userhash=true, broken syntax.
 */
export function parseAuthorization(value: string): DigestCredentials | undefined {
  const scheme = /^[ \t\r\n]*digest[ \t\r\n]+/i.exec(value);
  if (!scheme) return undefined;
  const params = parseParams(value, scheme[0].length);
  if (!params) return undefined;

  const username = params.get('username');
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  const uri = params.get('uri');
  const response = params.get('response');
  if (
    username === undefined ||
    realm === undefined ||
    nonce === undefined ||
    uri === undefined ||
    response === undefined
  ) {
    return undefined;
  }

  const algorithm = parseAlgorithm(params.get('algorithm'));
  if (!algorithm) return undefined;

  // RFC 7616 §3.4.4: with userhash=true the username is a hash we cannot look up.
  if (params.get('userhash')?.toLowerCase() === 'true') return undefined;

  const qopText = params.get('qop');
  const nc = params.get('nc');
  const cnonce = params.get('cnonce');
  let qop: 'auth' | undefined;
  if (qopText !== undefined) {
    if (qopText.toLowerCase() !== 'auth') return undefined;
    qop = 'auth';
    // RFC 2617 §3.2.2: cnonce and nc MUST be sent with qop; nc is 8LHEX.
    if (cnonce === undefined || nc === undefined || !/^[0-9a-fA-F]{8}$/.test(nc)) return undefined;
  }

  return { username, realm, nonce, uri, response, algorithm, qop, nc, cnonce, opaque: params.get('opaque') };
}

function parseAlgorithm(text: string | undefined): DigestAlgorithm | undefined {
  // RFC 2617 §3.2.1: no algorithm means MD5. Names compare case-insensitively.
  if (text === undefined) return 'MD5';
  const upper = text.toUpperCase();
  return upper === 'MD5' || upper === 'SHA-256' ? upper : undefined;
}

/** RFC 3261 §25.1 token characters. */
const TOKEN = /[A-Za-z0-9\-.!%*_+`'~]+/y;
/**
 * An unquoted value: a token by the grammar, but some phones send an
 * unquoted uri or nonce (`sip:a@b`, base64 `/` and `=`), so take anything
 * up to the next separator.
 */
const BARE_VALUE = /[^ \t\r\n,"]+/y;
const WHITESPACE = /[ \t\r\n]*/y;

/**
 * The comma-separated `name=value` list after the scheme, names lower-cased,
 * quoted strings unescaped. Undefined on a syntax error or a repeated name.
 */
function parseParams(text: string, start: number): Map<string, string> | undefined {
  const params = new Map<string, string>();
  let at = start;
  const skipWhitespace = (): void => {
    WHITESPACE.lastIndex = at;
    WHITESPACE.exec(text);
    at = WHITESPACE.lastIndex;
  };
  const take = (pattern: RegExp): string | undefined => {
    pattern.lastIndex = at;
    const match = pattern.exec(text);
    if (!match) return undefined;
    at = pattern.lastIndex;
    return match[0];
  };

  for (;;) {
    skipWhitespace();
    // RFC 7230 §7: empty list elements are tolerated.
    if (text[at] === ',') {
      at += 1;
      continue;
    }
    if (at >= text.length) break;

    const name = take(TOKEN)?.toLowerCase();
    if (name === undefined) return undefined;
    skipWhitespace();
    if (text[at] !== '=') return undefined;
    at += 1;
    skipWhitespace();

    let value: string | undefined;
    if (text[at] === '"') {
      const quoted = readQuoted(text, at);
      if (!quoted) return undefined;
      value = quoted.value;
      at = quoted.end;
    } else {
      value = take(BARE_VALUE);
    }
    if (value === undefined || params.has(name)) return undefined;
    params.set(name, value);

    skipWhitespace();
    if (at < text.length && text[at] !== ',') return undefined;
  }
  return params;
}

/** RFC 3261 §25.1 quoted-string starting at the opening quote; `\x` stands for x. */
function readQuoted(text: string, open: number): { value: string; end: number } | undefined {
  let value = '';
  for (let at = open + 1; at < text.length; at += 1) {
    const char = text[at];
    if (char === '"') return { value, end: at + 1 };
    if (char === '\\') {
      at += 1;
      const escaped = text[at];
      if (escaped === undefined || escaped === '\r' || escaped === '\n') return undefined;
      value += escaped;
    } else {
      value += char;
    }
  }
  return undefined;
}

function quote(text: string): string {
  return `"${text.replace(/["\\]/g, '\\$&')}"`;
}
