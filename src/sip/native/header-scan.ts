/**
 * Scanning SIP header values by index (RFC 3261 §25.1): spaces, tokens,
 * quoted strings, `;name=value` parameters and comma-separated elements,
 * for the native engine's parser (parse-message.ts). Pure; every function
 * takes the text and a position and returns where it stopped.
 */

export type Params = Record<string, string | null | undefined>;

export function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a;
}

/** RFC 3261 token characters: letters, digits and -.!%*_+`'~. */
function isToken(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x2d ||
    code === 0x2e ||
    code === 0x21 ||
    code === 0x25 ||
    code === 0x2a ||
    code === 0x5f ||
    code === 0x2b ||
    code === 0x60 ||
    code === 0x27 ||
    code === 0x7e
  );
}

export function skipSpaces(s: string, i: number): number {
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return i;
}

export function skipToken(s: string, i: number): number {
  while (i < s.length && isToken(s.charCodeAt(i))) i++;
  return i;
}

/** The end of a quoted string starting at `i` (on the opening quote), past the closing one; -1 when it never closes. */
export function quotedEnd(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const code = s.charCodeAt(j);
    if (code === 0x5c) j++;
    else if (code === 0x22) return j + 1;
  }
  return -1;
}

/** A parameter value: a quoted string, or token characters plus the colons and brackets of an IPv6 reference. */
function valueEnd(s: string, i: number): number {
  if (s.charCodeAt(i) === 0x22) return quotedEnd(s, i);
  let j = i;
  for (; j < s.length; j++) {
    const code = s.charCodeAt(j);
    if (!isToken(code) && code !== 0x3a && code !== 0x5b && code !== 0x5d) break;
  }
  return j;
}

/** `;name[=value]` parameters from `i` into `params` (names in lower case, a bare name null); the index after them. */
export function readParams(s: string, i: number, params: Params): number {
  for (;;) {
    const semicolon = skipSpaces(s, i);
    if (s.charCodeAt(semicolon) !== 0x3b) return i;
    const nameStart = skipSpaces(s, semicolon + 1);
    const nameEnd = skipToken(s, nameStart);
    if (nameEnd === nameStart) return i;
    const name = s.slice(nameStart, nameEnd).toLowerCase();
    const equals = skipSpaces(s, nameEnd);
    i = nameEnd;
    params[name] = null;
    if (s.charCodeAt(equals) === 0x3d) {
      const valueStart = skipSpaces(s, equals + 1);
      const end = valueEnd(s, valueStart);
      if (end > valueStart) {
        params[name] = s.slice(valueStart, end);
        i = end;
      }
    }
  }
}

/** After one element of a comma-separated header: the next element's start, or -1 at the end. */
export function nextElement(s: string, i: number): number {
  const comma = skipSpaces(s, i);
  return s.charCodeAt(comma) === 0x2c ? skipSpaces(s, comma + 1) : -1;
}
