import type { Message } from 'sip';
import { splitHead } from '../core/message-head.js';
import { checkRawRequest, rawResponse } from '../core/raw-request-check.js';
import { randomHex } from '../../random-pool.js';
import { type InboundResponse, ParsedResponse, scanResponse } from './inbound-response.js';
import { parseMessage } from './parse-message.js';
import type { ReceivedText } from './forward-request.js';

/** A received message the engine handles: a request (parsed) or a response. */
export type Received =
  { kind: 'request'; message: Message; raw: ReceivedText } | { kind: 'response'; response: InboundResponse };

/** What to do with one received message's text. */
export type Inbound = Received | { kind: 'reply'; text: string } | { kind: 'drop' };

/**
 * Every received message, UDP or TCP, passes here. A response is read by
 * the head scan when it can be (inbound-response.ts), else parsed. A
 * request's head is split once; its raw lines are checked before the
 * lenient parser reads them, and a malformed one gets its 400 (RFC 4475);
 * garbage and broken responses are dropped; a request is stamped with
 * where it really came from.
 */
export function inbound(text: string, transport: 'udp' | 'tcp', source: { address: string; port: number }): Inbound {
  const isResponse = text.startsWith('SIP/');
  if (isResponse) {
    const scanned = scanResponse(text);
    if (scanned) return { kind: 'response', response: scanned };
  }
  const head = splitHead(text);
  if (!isResponse) {
    const rejection = checkRawRequest(head, transport);
    if (rejection) {
      const reply = rawResponse(head, rejection, randomHex(6));
      return reply ? { kind: 'reply', text: reply } : { kind: 'drop' };
    }
  }
  const message = parseMessage(head);
  const via = message?.headers.via?.[0];
  if (!message || !via || !message.headers['call-id'] || !message.headers.cseq) return { kind: 'drop' };
  if (message.method === undefined) return { kind: 'response', response: new ParsedResponse(message) };
  // RFC 3261 §18.2.1 and RFC 3581: where the request really came from.
  via.params.received = source.address;
  if (Object.hasOwn(via.params, 'rport')) via.params.rport = String(source.port);
  return { kind: 'request', message, raw: { text, head } };
}
