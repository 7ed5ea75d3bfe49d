import type { Message } from 'sip';
import { splitHead } from '../message-head.js';
import { checkRawRequest, rawResponse } from '../raw-request-check.js';
import { randomHex } from '../../random-pool.js';
import { parseMessage } from './parse-message.js';

/** What to do with one received message's text. */
export type Inbound = { kind: 'message'; message: Message } | { kind: 'reply'; text: string } | { kind: 'drop' };

/**
 * Every received message, UDP or TCP, passes here: its head is split once;
 * a request's raw lines are checked before the lenient parser reads them,
 * and a malformed one gets its 400 (RFC 4475); garbage and broken
 * responses are dropped; a request is stamped with where it really came
 * from.
 */
export function inbound(text: string, transport: 'udp' | 'tcp', source: { address: string; port: number }): Inbound {
  const head = splitHead(text);
  if (!text.startsWith('SIP/')) {
    const rejection = checkRawRequest(head, transport);
    if (rejection) {
      const reply = rawResponse(head, rejection, randomHex(6));
      return reply ? { kind: 'reply', text: reply } : { kind: 'drop' };
    }
  }
  const message = parseMessage(head);
  const via = message?.headers.via?.[0];
  if (!message || !via || !message.headers['call-id'] || !message.headers.cseq) return { kind: 'drop' };
  if (message.method !== undefined) {
    // RFC 3261 §18.2.1 and RFC 3581: where the request really came from.
    via.params.received = source.address;
    if (Object.hasOwn(via.params, 'rport')) via.params.rport = String(source.port);
  }
  return { kind: 'message', message };
}
