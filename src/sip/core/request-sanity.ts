import type { LocalAddress, SipRequest } from '../engine.js';
import { isOwnHop } from './endpoint.js';
import { parseMaxForwards } from './max-forwards.js';

/**
 * RFC 3261 §16.3 request validation (and §8.2 for what a UAS checks),
 * before anything else looks at a request. Pure: the request and our own
 * address in, a rejection (status and reason) or nothing out.
 */

export interface Rejection {
  status: number;
  reason: string;
  headers?: Record<string, string>;
}

const REQUIRED_HEADERS: readonly [string, (request: SipRequest) => boolean][] = [
  ['Via', (r) => r.vias.length > 0],
  ['Call-ID', (r) => r.callId !== undefined && r.callId.trim() !== ''],
  ['From', (r) => r.hasHeader('from')],
  ['To', (r) => r.hasHeader('to')],
];

/** Extensions this proxy implements; any other in Proxy-Require is refused (RFC 3261 §16.3 step 5). */
const SUPPORTED_EXTENSIONS = new Set<string>([]);

const MAX_CSEQ = 2 ** 31 - 1;

export function checkRequest(request: SipRequest, local: LocalAddress): Rejection | undefined {
  if (request.version !== '2.0') return { status: 505, reason: `Version Not Supported (SIP/${request.version})` };
  for (const [name, present] of REQUIRED_HEADERS) {
    if (!present(request)) return { status: 400, reason: `Missing ${name}` };
  }
  const cseq = request.cseq;
  if (!cseq || !Number.isInteger(cseq.seq) || cseq.seq < 0 || cseq.seq > MAX_CSEQ)
    return { status: 400, reason: 'Bad CSeq' };
  if (cseq.method !== request.method) return { status: 400, reason: 'CSeq Method Does Not Match' };
  const contentLength = request.header('content-length');
  if (contentLength !== undefined && !/^\s*\d+\s*$/.test(contentLength))
    return { status: 400, reason: 'Bad Content-Length' };
  if (!/^sips?:/i.test(request.uri)) return { status: 416, reason: 'Unsupported URI Scheme' };
  const maxForwards = request.header('max-forwards');
  const hops = maxForwards === undefined ? undefined : parseMaxForwards(maxForwards);
  if (maxForwards !== undefined && hops === undefined) return { status: 400, reason: 'Bad Max-Forwards' };
  // RFC 3261 §16.3 step 3: OPTIONS with Max-Forwards 0 may be answered here; others get 483.
  if (hops === 0 && request.method !== 'OPTIONS') return { status: 483, reason: 'Too Many Hops' };
  const unsupported = (request.header('proxy-require') ?? '')
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '' && !SUPPORTED_EXTENSIONS.has(tag));
  if (unsupported.length > 0)
    return { status: 420, reason: 'Bad Extension', headers: { Unsupported: unsupported.join(', ') } };
  if (request.vias.some((via) => isOwnHop(local, { address: via.host, port: via.port, transport: via.protocol }))) {
    return { status: 482, reason: 'Loop Detected' };
  }
  return undefined;
}
