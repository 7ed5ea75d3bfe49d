import { parseMaxForwards } from './max-forwards.js';
import type { MessageHead } from './message-head.js';
import type { Rejection } from './request-sanity.js';

/**
 * Syntax checks on a request's raw text, for what a lenient parser lets
 * through or drops without a word (RFC 4475 §3.1.2, §3.3): the request line
 * to the letter, required headers present, single-valued headers single,
 * From/To name-addr syntax, parameter lists, Content-Length against the
 * body, scalars in range. Pure: the split head (message-head.ts) in, a 400
 * (or nothing) out.
 */

const SINGLE_VALUED = ['to', 'from', 'call-id', 'cseq', 'content-length', 'max-forwards', 'content-type'];
const REQUIRED = ['to', 'from', 'call-id', 'cseq', 'via'];
const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;
const MAX_CSEQ = 2 ** 31 - 1;

function badRequest(reason: string): Rejection {
  return { status: 400, reason };
}

/** name-addr / addr-spec of From and To (RFC 3261 §20.10, §25.1). */
function nameAddrProblem(value: string): string | undefined {
  const unescaped = value.replace(/\\./g, '');
  if ((unescaped.match(/"/g)?.length ?? 0) % 2 !== 0) return 'unbalanced quotes';
  const open = value.indexOf('<');
  if (open < 0) return /\s/.test((value.split(';')[0] ?? '').trim()) ? 'spaces in an addr-spec' : undefined;
  const close = value.indexOf('>', open);
  if (close < 0) return 'a < without its >';
  const inside = value.slice(open + 1, close);
  if (inside !== inside.trim()) return 'spaces inside < >';
  const display = value.slice(0, open).trim();
  if (display === '' || /^"([^"\\]|\\.)*"$/.test(display)) return undefined;
  return display.split(/\s+/).every((word) => TOKEN.test(word)) ? undefined : 'a display name that needs quotes';
}

/** RFC 3261 §20.10: a URI with a `?` (or `,` `;`) must sit inside `< >` (RFC 4475 §3.1.2.13). */
function bareUriProblem(value: string): string | undefined {
  if (value === '*' || value.includes('<')) return undefined;
  return value.includes('?') ? 'a URI with headers outside < >' : undefined;
}

/** Via and Contact parameters: `;name[=value]`, never empty (RFC 4475 §3.1.2.1). */
function parameterProblem(value: string): string | undefined {
  return /;\s*[;,]|;\s*$|,\s*,|,\s*$/.test(value) ? 'an empty parameter or list element' : undefined;
}

export function checkRawRequest(head: MessageHead, transport: 'udp' | 'tcp'): Rejection | undefined {
  const { startLine, headers, body, linesWithoutColon } = head;
  const requestLine = /^([A-Za-z0-9.!%*_+`'~-]+) (\S+) SIP\/(\d+\.\d+)$/.exec(startLine);
  if (!requestLine) return badRequest('Malformed Request-Line');
  const uri = requestLine[2] ?? '';
  if (/[<>]/.test(uri)) return badRequest('Malformed Request-URI');
  // RFC 3261 §19.1.5: a Request-URI carries no headers (a `?` after the host; the user part may hold one).
  if (uri.slice(uri.lastIndexOf('@') + 1).includes('?')) return badRequest('Request-URI With Headers');
  // RFC 3261 §7.3: every header line is name HCOLON value; the lenient parser would lose such a line silently.
  if (linesWithoutColon > 0) return badRequest('Header Line Without A Colon');

  const count = new Map<string, number>();
  for (const header of headers) count.set(header.name, (count.get(header.name) ?? 0) + 1);
  for (const name of REQUIRED) if (!count.has(name)) return badRequest(`Missing ${name}`);
  for (const name of SINGLE_VALUED) if ((count.get(name) ?? 0) > 1) return badRequest(`More Than One ${name}`);

  for (const header of headers) {
    if (header.name === 'to' || header.name === 'from') {
      const problem = nameAddrProblem(header.value);
      if (problem) return badRequest(`Malformed ${header.name === 'to' ? 'To' : 'From'}: ${problem}`);
    }
    if (header.name === 'via' || header.name === 'contact') {
      const problem =
        parameterProblem(header.value) ?? (header.name === 'contact' ? bareUriProblem(header.value) : undefined);
      if (problem) return badRequest(`Malformed ${header.name === 'via' ? 'Via' : 'Contact'}: ${problem}`);
    }
  }

  const value = (name: string) => headers.find((header) => header.name === name)?.value;
  const cseq = /^(\d+)\s+\S+$/.exec(value('cseq') ?? '');
  if (!cseq || Number(cseq[1]) > MAX_CSEQ) return badRequest('Bad CSeq');
  const maxForwards = value('max-forwards');
  if (maxForwards !== undefined && parseMaxForwards(maxForwards) === undefined) return badRequest('Bad Max-Forwards');
  const contentLength = value('content-length');
  if (contentLength !== undefined) {
    if (!/^\d+$/.test(contentLength)) return badRequest('Bad Content-Length');
    // RFC 3261 §18.3: on a datagram, a body shorter than Content-Length is an error.
    if (transport === 'udp' && Number(contentLength) > body.length)
      return badRequest('Content-Length Larger Than The Body');
  }
  return undefined;
}

/**
 * A response built from a request's split head, for a request too broken to
 * parse (RFC 3261 §8.2.6: Via, From, To, Call-ID and CSeq copied, those
 * present). Undefined when the text is not a request or has no Via to answer
 * to: such datagrams are dropped.
 */
export function rawResponse(head: MessageHead, rejection: Rejection, toTag: string): string | undefined {
  const { startLine, headers } = head;
  if (startLine.startsWith('SIP/') || !/ SIP\/\d/.test(startLine)) return undefined;
  const pick = (name: string) => headers.filter((header) => header.name === name);
  const vias = pick('via');
  const [callId] = pick('call-id');
  // Without a Via there is nowhere to answer; a missing Call-ID is itself the fault being reported.
  if (vias.length === 0) return undefined;
  const lines = [`SIP/2.0 ${rejection.status} ${rejection.reason}`, ...vias.map((via) => `Via: ${via.value}`)];
  const [from] = pick('from');
  const [to] = pick('to');
  const [cseq] = pick('cseq');
  if (from) lines.push(`From: ${from.value}`);
  if (to) lines.push(`To: ${/;\s*tag=/i.test(to.value) ? to.value : `${to.value};tag=${toTag}`}`);
  if (callId) lines.push(`Call-ID: ${callId.value}`);
  if (cseq) lines.push(`CSeq: ${cseq.value}`);
  for (const [name, value] of Object.entries(rejection.headers ?? {})) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`;
}
