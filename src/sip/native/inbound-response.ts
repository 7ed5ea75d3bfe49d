import type { Message } from 'sip';
import { splitHead } from '../core/message-head.js';
import { isSpace, skipSpaces } from './header-scan.js';
import { parseMessage, readCSeq, readVias } from './parse-message.js';
import { writeMessage } from './write-message.js';

/**
 * A response received for one of our client transactions, as the engine
 * hands it on. Most responses are relayed upstream unchanged but for our
 * Via (RFC 3261 §16.7 step 3): those are read by a scan of their head
 * (status, top Via branch, CSeq method) and relayed by cutting our Via line
 * out of the text, never parsed or written again. A response the scan does
 * not vouch for (a Via line holding several Vias, folded lines, a body
 * longer than its Content-Length) is parsed and written in full, as before.
 */
export interface InboundResponse {
  readonly status: number;
  readonly reason: string;
  /** The top Via's branch and the CSeq method: the client transaction it belongs to. */
  readonly branch: string;
  readonly method: string;
  /** The whole message, parsed on first use (an ACK of a non-2xx needs its To). */
  message(): Message;
  /** The response as it goes upstream: without the top Via (ours). */
  relayText(): string;
}

const SPACE = 0x20;
const TAB = 0x09;

/** Whether text[start, end) is `name` (lower case), compared without case. */
function nameIs(text: string, start: number, end: number, name: string): boolean {
  if (end - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) {
    if ((text.charCodeAt(start + i) | 0x20) !== name.charCodeAt(i)) return false;
  }
  return true;
}

/** Where text[start, end) ends without its trailing spaces. */
function trimmedEnd(text: string, start: number, end: number): number {
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  return end;
}

/** A response read by the head scan: relayed by cutting out the top Via line. */
class ScannedResponse implements InboundResponse {
  private parsed: Message | undefined;

  constructor(
    private readonly text: string,
    readonly status: number,
    readonly reason: string,
    readonly branch: string,
    readonly method: string,
    /** The top Via line, its CRLF included. */
    private readonly viaStart: number,
    private readonly viaEnd: number,
  ) {}

  message(): Message {
    this.parsed ??= parseMessage(splitHead(this.text));
    // The scan checked what the parser needs: a status line, Via, Call-ID and CSeq.
    if (!this.parsed) throw new Error('a scanned response did not parse');
    return this.parsed;
  }

  relayText(): string {
    return this.text.slice(0, this.viaStart) + this.text.slice(this.viaEnd);
  }
}

/** A response that took the full parse: relayed by writing it again without its top Via. */
export class ParsedResponse implements InboundResponse {
  readonly status: number;
  readonly reason: string;
  readonly branch: string;
  readonly method: string;

  constructor(private readonly parsed: Message) {
    this.status = parsed.status ?? 0;
    this.reason = parsed.reason ?? '';
    const branch = parsed.headers.via?.[0]?.params.branch;
    this.branch = typeof branch === 'string' ? branch : '';
    this.method = parsed.headers.cseq?.method ?? '';
  }

  message(): Message {
    return this.parsed;
  }

  relayText(): string {
    return writeMessage({
      ...this.parsed,
      headers: { ...this.parsed.headers, via: (this.parsed.headers.via ?? []).slice(1) },
    });
  }
}

/**
 * The head scan: a response whose status line, top Via (alone on its line,
 * with a branch), Call-ID, CSeq and Content-Length read plainly; undefined
 * for anything else, which then takes the full parse. Pure.
 */
export function scanResponse(text: string): InboundResponse | undefined {
  if (!text.startsWith('SIP/2.0 ')) return undefined;
  const firstEnd = text.indexOf('\r\n');
  const headEnd = text.indexOf('\r\n\r\n');
  if (firstEnd < 12 || headEnd < firstEnd) return undefined;
  const status = Number(text.slice(8, 11));
  if (!Number.isInteger(status) || status < 100 || text.charCodeAt(11) !== SPACE) return undefined;
  let branch: string | undefined;
  let method: string | undefined;
  let viaStart = -1;
  let viaEnd = -1;
  let callId = false;
  let contentLength: number | undefined;
  for (let start = firstEnd + 2; start < headEnd + 2;) {
    const end = text.indexOf('\r\n', start);
    const next = text.charCodeAt(end + 2);
    // A folded line: the full parser joins it.
    if (next === SPACE || next === TAB) return undefined;
    const colon = text.indexOf(':', start);
    if (colon < start || colon > end) return undefined;
    // A line starting with a space is a fold, refused above: the name starts the line.
    const nameStart = start;
    const nameEnd = trimmedEnd(text, start, colon);
    const valueStart = Math.min(skipSpaces(text, colon + 1), end);
    const valueEnd = trimmedEnd(text, valueStart, end);
    if (nameIs(text, nameStart, nameEnd, 'via') || nameIs(text, nameStart, nameEnd, 'v')) {
      if (viaStart < 0) {
        // Read by the parser's own Via reader, so that scan and parse agree on what the top Via is.
        const vias = readVias(text.slice(valueStart, valueEnd), []);
        // None (the parser would skip the line), or several on the line (cutting it would take the caller's too).
        if (vias?.length !== 1) return undefined;
        const found = vias[0]?.params.branch;
        branch = typeof found === 'string' ? found : undefined;
        viaStart = start;
        viaEnd = end + 2;
      }
    } else if (nameIs(text, nameStart, nameEnd, 'cseq')) {
      method = readCSeq(text.slice(valueStart, valueEnd))?.method;
      if (method === undefined) return undefined;
    } else if (nameIs(text, nameStart, nameEnd, 'call-id') || nameIs(text, nameStart, nameEnd, 'i')) {
      callId = valueEnd > valueStart;
    } else if (nameIs(text, nameStart, nameEnd, 'content-length') || nameIs(text, nameStart, nameEnd, 'l')) {
      contentLength = Number(text.slice(valueStart, valueEnd));
    }
    start = end + 2;
  }
  if (!branch || !method || !callId || viaStart < 0) return undefined;
  // A body other than Content-Length says is cut or refused by the full parser.
  if (contentLength !== undefined && contentLength !== text.length - headEnd - 4) return undefined;
  const reason = text.slice(12, firstEnd);
  // A lone CR or LF in the status line: the parser refuses the line (its reason is one line), so the scan must too.
  if (reason.includes('\n') || reason.includes('\r')) return undefined;
  return new ScannedResponse(text, status, reason, branch, method, viaStart, viaEnd);
}
