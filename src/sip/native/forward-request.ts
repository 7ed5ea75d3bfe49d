import type { Message, RouteEntry, Via } from 'sip';
import type { MessageHead } from '../core/message-head.js';
import { nameAddrs, vias } from './write-message.js';

/** A received request's text and its split head, which a forwarded copy is cut from. */
export interface ReceivedText {
  text: string;
  head: MessageHead;
}

/** What a proxy changes in a request it forwards (RFC 3261 §16.6). */
export interface ForwardEdits {
  uri: string;
  /** Our Via, on top. */
  via: Via;
  /** Our Record-Route entries, above the request's own. */
  recordRoutes?: readonly RouteEntry[];
  maxForwards: string;
  /** Leave out the Proxy-Authorization that answered our own challenge. */
  dropProxyAuthorization: boolean;
  /** Route headers in place of the request's own (empty: none); undefined keeps them. */
  routes?: readonly RouteEntry[];
}

/**
 * The forwarded request's text, spliced from the received one: the request
 * line, our Via and Record-Route written, the Via set written again from the
 * parsed Vias (the top one now carries received and rport), Max-Forwards,
 * Route and Content-Length replaced, and every other header line copied as
 * it came, in its order, names and spelling (a proxy leaves what it does not
 * change alone). No Message object is built for it. Pure.
 */
export function forwardedText(received: ReceivedText, message: Message, edits: ForwardEdits): string {
  const { text, head } = received;
  const content = message.content ?? '';
  let out = `${message.method} ${edits.uri} SIP/2.0\r\n${vias([edits.via])}`;
  if (edits.recordRoutes && edits.recordRoutes.length > 0) out += `Record-Route: ${nameAddrs(edits.recordRoutes)}\r\n`;
  // Headers written anew: where the first of their lines was (the others dropped), else after the rest.
  const replaced = new Map<string, string>([
    ['via', vias(message.headers.via ?? [])],
    ['max-forwards', `Max-Forwards: ${edits.maxForwards}\r\n`],
  ]);
  if (edits.dropProxyAuthorization) replaced.set('proxy-authorization', '');
  if (edits.routes) replaced.set('route', routeLine(edits.routes));
  replaced.set('content-length', `Content-Length: ${content.length}\r\n`);
  const written = new Set<string>();
  for (const header of head.headers) {
    const replacement = replaced.get(header.name);
    if (replacement === undefined) out += `${text.slice(header.start, header.end)}\r\n`;
    else if (!written.has(header.name)) {
      out += replacement;
      written.add(header.name);
    }
  }
  for (const [name, replacement] of replaced) if (!written.has(name)) out += replacement;
  return `${out}\r\n${content}`;
}

function routeLine(routes: readonly RouteEntry[]): string {
  return routes.length > 0 ? `Route: ${nameAddrs(routes)}\r\n` : '';
}
