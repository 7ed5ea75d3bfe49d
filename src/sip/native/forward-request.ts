import type { Message, RouteEntry, Via } from 'sip';
import type { MessageHead } from '../message-head.js';
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
  let viasWritten = false;
  let routesWritten = edits.routes === undefined;
  let maxForwardsWritten = false;
  let lengthWritten = false;
  for (const header of head.headers) {
    switch (header.name) {
      case 'via':
        if (!viasWritten) out += vias(message.headers.via ?? []);
        viasWritten = true;
        continue;
      case 'max-forwards':
        if (!maxForwardsWritten) out += `Max-Forwards: ${edits.maxForwards}\r\n`;
        maxForwardsWritten = true;
        continue;
      case 'proxy-authorization':
        if (edits.dropProxyAuthorization) continue;
        break;
      case 'route':
        if (edits.routes === undefined) break;
        if (!routesWritten) out += routeLine(edits.routes);
        routesWritten = true;
        continue;
      case 'content-length':
        if (!lengthWritten) out += `Content-Length: ${content.length}\r\n`;
        lengthWritten = true;
        continue;
    }
    out += `${text.slice(header.start, header.end)}\r\n`;
  }
  if (!maxForwardsWritten) out += `Max-Forwards: ${edits.maxForwards}\r\n`;
  if (!routesWritten && edits.routes) out += routeLine(edits.routes);
  if (!lengthWritten) out += `Content-Length: ${content.length}\r\n`;
  return `${out}\r\n${content}`;
}

function routeLine(routes: readonly RouteEntry[]): string {
  return routes.length > 0 ? `Route: ${nameAddrs(routes)}\r\n` : '';
}
