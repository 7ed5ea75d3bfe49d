import sip, { type Message, type NameAddr, type RouteEntry, type Via } from 'sip';
import { boundedMemo } from '../../core/bounded-memo.js';
import { hostText } from '../core/endpoint.js';

/**
 * The native engine's serializer: a Message to its text, as `sip.stringify`
 * writes it (a unit test compares the two), with the header names written
 * once per name instead of by a regular expression per message, and no
 * arrays built per header. Like `sip.stringify`, it sets Content-Length
 * to the body's length first.
 */

type Params = Readonly<Record<string, string | null | undefined>>;

/** `record-route` as `Record-Route`: each word's first letter upper case (`Call-ID` as the package writes it). */
const headerName = boundedMemo((name) => name.replace(/\b([a-z])/g, (letter) => letter.toUpperCase()), 512, [
  ['call-id', 'Call-ID'],
]);

function params(values: Params | undefined): string {
  let text = '';
  for (const name in values) {
    const value = values[name];
    text += value ? `;${name}=${value}` : `;${name}`;
  }
  return text;
}

function nameAddr(entry: NameAddr | RouteEntry): string {
  return `${entry.name ?? ''} <${sip.stringifyUri(entry.uri)}>${params(entry.params)}`;
}

export function nameAddrs(entries: readonly (NameAddr | RouteEntry)[]): string {
  let text = '';
  for (const entry of entries) text += text === '' ? nameAddr(entry) : `, ${nameAddr(entry)}`;
  return text;
}

export function vias(entries: readonly Via[]): string {
  let text = '';
  for (const via of entries) {
    if (via.host)
      text += `Via: SIP/${via.version || '2.0'}/${via.protocol.toUpperCase()} ${hostText(via.host)}${via.port ? `:${via.port}` : ''}${params(via.params)}\r\n`;
  }
  return text;
}

function authHeaders(written: string, entries: readonly unknown[]): string {
  let text = '';
  for (const entry of entries) text += `${written}: ${sip.stringifyAuthHeader(entry)}\r\n`;
  return text;
}

/** One header's lines (with their CRLF), or '' for nothing to write. */
function headerLines(name: string, value: unknown): string {
  if (typeof value === 'string') return `${headerName(name)}: ${value}\r\n`;
  switch (name) {
    case 'via':
      return vias(value as Via[]);
    case 'to':
    case 'from':
    case 'refer-to':
      return `${headerName(name)}: ${nameAddr(value as NameAddr)}\r\n`;
    case 'contact': {
      const entries = value as NameAddr[] | '*';
      return `Contact: ${entries !== '*' && entries.length > 0 ? nameAddrs(entries) : '*'}\r\n`;
    }
    case 'route':
    case 'record-route':
    case 'path': {
      const entries = value as RouteEntry[];
      return entries.length > 0 ? `${headerName(name)}: ${nameAddrs(entries)}\r\n` : '';
    }
    case 'cseq': {
      const cseq = value as { seq: number; method: string };
      return `CSeq: ${cseq.seq} ${cseq.method}\r\n`;
    }
    case 'www-authenticate':
      return authHeaders('WWW-Authenticate', value as unknown[]);
    case 'proxy-authenticate':
    case 'authorization':
    case 'proxy-authorization':
      return authHeaders(headerName(name), value as unknown[]);
    case 'authentication-info':
      return `Authentication-Info: ${sip.stringifyAuthHeader(value)}\r\n`;
    default:
      return `${headerName(name)}: ${String(value)}\r\n`;
  }
}

export function writeMessage(message: Message): string {
  let text = message.status
    ? `SIP/${message.version || '2.0'} ${message.status} ${message.reason}\r\n`
    : `${message.method} ${sip.stringifyUri(message.uri ?? '')} SIP/${message.version || '2.0'}\r\n`;
  const { headers } = message;
  headers['content-length'] = (message.content ?? '').length;
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) text += headerLines(name, value);
  }
  return `${text}\r\n${message.content ?? ''}`;
}
