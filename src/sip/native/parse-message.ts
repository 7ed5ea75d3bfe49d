import sip, { type CSeq, type Headers, type Message, type NameAddr, type RouteEntry, type Via } from 'sip';
import type { MessageHead } from '../core/message-head.js';
import { isSpace, nextElement, quotedEnd, readParams, skipSpaces, skipToken } from './header-scan.js';

/**
 * The native engine's parser: a split head (message-head.ts) to the `sip`
 * package's Message shape, which the engine and the `sip` serializer read.
 * It replaces `sip.parse`, which split and matched each message again with
 * regular expressions whose arrays and strings were a third of the proxy's
 * allocations. Same shapes and the same leniency for what `sip.parse`
 * accepts (a unit test compares the two over the RFC 4475 messages and our
 * own traffic); the differences are on input it mangled: folded lines are
 * one space, a Via or parameter value may hold an IPv6 reference, `Contact:
 * *` is the wildcard (not a contact whose URI is `*`), a Route URI that is
 * not sip: stays text, and a `%` in a method or header name is kept (RFC
 * 4475 §3.1.1.5: `RE%47IST%45R` is not REGISTER).
 * Pure and index-based; a header it cannot read is left out, as `sip.parse`
 * left out one its parser threw on.
 */

const VIA_START = /SIP\s*\/\s*(\d+\.\d+)\s*\/\s*(\S+)\s+/y;
const RESPONSE_LINE = /^SIP\/(\d+\.\d+)\s+(\d+)\s*(.*)\s*$/;
const REQUEST_LINE = /^([\w\-.!%*_+`'~]+)\s([^\s]+)\sSIP\s*\/\s*(\d+\.\d+)/;

/** `SIP/2.0/UDP host[:port];params`, one or more per header. */
export function readVias(s: string, into: Via[]): Via[] | undefined {
  for (let i = 0; i >= 0;) {
    VIA_START.lastIndex = i;
    const head = VIA_START.exec(s);
    if (!head) return into.length > 0 ? into : undefined;
    let hostEnd = VIA_START.lastIndex;
    if (s.charCodeAt(hostEnd) === 0x5b) hostEnd = s.indexOf(']', hostEnd) + 1;
    while (hostEnd > 0 && hostEnd < s.length) {
      const code = s.charCodeAt(hostEnd);
      if (isSpace(code) || code === 0x3b || code === 0x3a || code === 0x2c) break;
      hostEnd++;
    }
    if (hostEnd <= VIA_START.lastIndex) return into.length > 0 ? into : undefined;
    const via: Via = {
      version: head[1] ?? '2.0',
      protocol: head[2] ?? '',
      host: s.slice(VIA_START.lastIndex, hostEnd),
      port: undefined,
      params: {},
    };
    i = hostEnd;
    const colon = skipSpaces(s, i);
    if (s.charCodeAt(colon) === 0x3a) {
      const portStart = skipSpaces(s, colon + 1);
      let portEnd = portStart;
      while (portEnd < s.length && s.charCodeAt(portEnd) >= 0x30 && s.charCodeAt(portEnd) <= 0x39) portEnd++;
      if (portEnd > portStart) {
        via.port = Number(s.slice(portStart, portEnd));
        i = portEnd;
      }
    }
    i = readParams(s, i, via.params);
    into.push(via);
    i = nextElement(s, i);
  }
  return into;
}

/** A name-addr (`"Name" <uri>;params`) or an addr-spec (`uri;params`) at `i`; the entry and the index after it. */
function readNameAddr(s: string, i: number): { entry: NameAddr; end: number } | undefined {
  let name: string | undefined;
  let cursor = i;
  if (s.charCodeAt(cursor) === 0x22) {
    const end = quotedEnd(s, cursor);
    if (end < 0) return undefined;
    name = s.slice(cursor, end);
    cursor = skipSpaces(s, end);
  } else {
    // Display-name tokens, when a `<` follows them.
    const angle = s.indexOf('<', cursor);
    const comma = s.indexOf(',', cursor);
    if (angle > cursor && (comma < 0 || comma > angle)) {
      const words = s.slice(cursor, angle).trim();
      if (words !== '' && words.split(/\s+/).every((word) => skipToken(word, 0) === word.length)) {
        name = words;
        cursor = angle;
      }
    }
  }
  let uri: string;
  if (s.charCodeAt(cursor) === 0x3c) {
    const close = s.indexOf('>', cursor);
    if (close < 0) return undefined;
    uri = s.slice(cursor + 1, close).trim();
    cursor = close + 1;
  } else {
    if (name !== undefined) return undefined;
    let end = cursor;
    while (end < s.length && !isSpace(s.charCodeAt(end)) && s.charCodeAt(end) !== 0x3b) end++;
    if (end === cursor) return undefined;
    uri = s.slice(cursor, end);
    cursor = end;
  }
  const entry: NameAddr = { name, uri, params: {} };
  return { entry, end: readParams(s, cursor, entry.params) };
}

function readNameAddrs(s: string, into: NameAddr[]): NameAddr[] | undefined {
  for (let i = skipSpaces(s, 0); i >= 0;) {
    const read = readNameAddr(s, i);
    if (!read) return into.length > 0 ? into : undefined;
    into.push(read.entry);
    i = nextElement(s, read.end);
  }
  return into;
}

function readRoutes(s: string, into: RouteEntry[]): RouteEntry[] | undefined {
  const entries = readNameAddrs(s, []);
  if (!entries) return into.length > 0 ? into : undefined;
  // A URI that is not sip: stays text (`sip.parse` left it undefined, which its serializer then failed on).
  for (const entry of entries)
    into.push({ name: entry.name, uri: sip.parseUri(entry.uri) ?? entry.uri, params: entry.params });
  return into;
}

export function readCSeq(s: string): CSeq | undefined {
  const match = /(\d+)\s*(\S+)/.exec(s);
  return match ? { seq: Number(match[1]), method: match[2] ?? '' } : undefined;
}

/** Digest challenges and credentials: `Scheme name=value, name="value"`, values as written (quotes kept). */
function readAuthParams(s: string, i: number, into: Record<string, string>): number {
  for (let first = true; ; first = false) {
    let cursor = skipSpaces(s, i);
    if (!first) {
      if (s.charCodeAt(cursor) !== 0x2c) return i;
      cursor = skipSpaces(s, cursor + 1);
    }
    let nameEnd = cursor;
    while (nameEnd < s.length) {
      const code = s.charCodeAt(nameEnd);
      if (isSpace(code) || code === 0x2c || code === 0x22 || code === 0x3d) break;
      nameEnd++;
    }
    const equals = skipSpaces(s, nameEnd);
    if (s.charCodeAt(equals) !== 0x3d) return i;
    const valueStart = skipSpaces(s, equals + 1);
    let valueEndAt: number;
    if (s.charCodeAt(valueStart) === 0x22) valueEndAt = quotedEnd(s, valueStart);
    else {
      valueEndAt = valueStart;
      while (valueEndAt < s.length) {
        const code = s.charCodeAt(valueEndAt);
        if (isSpace(code) || code === 0x2c || code === 0x22) break;
        valueEndAt++;
      }
    }
    if (valueEndAt <= valueStart) return i;
    into[s.slice(cursor, nameEnd)] = s.slice(valueStart, valueEndAt);
    i = valueEndAt;
  }
}

function readAuthHeaders(s: string, into: Record<string, string>[]): Record<string, string>[] | undefined {
  for (let i = 0; i >= 0;) {
    let schemeEnd = i;
    while (schemeEnd < s.length && !isSpace(s.charCodeAt(schemeEnd))) schemeEnd++;
    if (schemeEnd === i || schemeEnd >= s.length) return into.length > 0 ? into : undefined;
    const header: Record<string, string> = { scheme: s.slice(i, schemeEnd) };
    const end = readAuthParams(s, schemeEnd, header);
    if (end === schemeEnd) return into.length > 0 ? into : undefined;
    into.push(header);
    i = nextElement(s, end);
  }
  return into;
}

function readHeader(headers: Headers, name: string, value: string): unknown {
  switch (name) {
    case 'via':
      return readVias(value, headers.via ?? []);
    case 'to':
    case 'from':
    case 'refer-to':
      return readNameAddr(value, skipSpaces(value, 0))?.entry;
    case 'contact':
      return value === '*' ? '*' : readNameAddrs(value, Array.isArray(headers.contact) ? headers.contact : []);
    case 'route':
    case 'record-route':
    case 'path':
      return readRoutes(value, (headers[name] as RouteEntry[] | undefined) ?? []);
    case 'cseq':
      return readCSeq(value);
    case 'content-length':
      return Number(value);
    case 'www-authenticate':
    case 'proxy-authenticate':
    case 'authorization':
    case 'proxy-authorization':
      return readAuthHeaders(value, (headers[name] as Record<string, string>[] | undefined) ?? []);
    case 'authentication-info': {
      const info: Record<string, string> = {};
      return readAuthParams(value, 0, info) > 0 ? info : undefined;
    }
    default: {
      const earlier = headers[name];
      return typeof earlier === 'string' ? `${earlier},${value}` : value;
    }
  }
}

/** The message of a split head; undefined for a head that is neither a request nor a response, or has no blank line. */
export function parseMessage(head: MessageHead): Message | undefined {
  if (!head.complete) return undefined;
  const startLine = head.startLine.trimStart();
  const message: Message = { version: '', headers: {} };
  const response = RESPONSE_LINE.exec(startLine);
  if (response) {
    message.version = response[1] ?? '';
    message.status = Number(response[2]);
    message.reason = response[3] ?? '';
  } else {
    const request = REQUEST_LINE.exec(startLine);
    if (!request) return undefined;
    message.method = request[1] ?? '';
    message.uri = request[2];
    message.version = request[3] ?? '';
  }
  const { headers } = message;
  for (const { name, value } of head.headers) {
    const parsed = readHeader(headers, name, value);
    if (parsed !== undefined) headers[name] = parsed;
  }
  const length = headers['content-length'];
  message.content = length ? head.body.slice(0, Math.max(0, Math.min(length, head.body.length))) : head.body;
  return message;
}
