/**
 * SIP over a byte stream cut into messages (RFC 3261 §18.3: the head ends at
 * the first blank line, the body is Content-Length octets), with the size
 * caps of sip.tcp. Pure: the text read so far (latin1, one character per
 * octet) in, the whole messages and what is left out.
 */

export interface FramingLimits {
  /** A head (start line and headers) longer than this is refused. */
  maxHeadBytes: number;
  /** A Content-Length above this is refused. */
  maxBodyBytes: number;
}

/**
 * Why the stream cannot go on: it cannot be resynchronised after any of
 * these, so the connection is closed (after an answer to `head` when there
 * is one).
 */
export type FramingFault =
  { kind: 'head-too-large' } | { kind: 'body-too-large'; head: string } | { kind: 'bad-length'; head: string };

export interface Framed {
  /** The whole messages, in order. */
  messages: string[];
  /** Whether a keep-alive ping (CRLFCRLF between messages, RFC 5626 §3.5.1) came: the pong is one CRLF. */
  pinged: boolean;
  /** The start of the next message ('' when none has started). */
  rest: string;
  fault?: FramingFault;
}

/** RFC 3261 §7.3.3: `l` is Content-Length's compact form. */
const CONTENT_LENGTH = /^(?:content-length|l)[ \t]*:[ \t]*(\S*)/im;

/**
 * CRLFs between messages are keep-alives, not the start of one (RFC 5626
 * §3.5.1): a pair (CRLFCRLF) is a client's ping, which wants a CRLF back; a
 * lone CRLF is a pong or an RFC 3261 keep-alive. (A ping split between two
 * reads goes unanswered; the client pings again.)
 */
function withoutKeepAlives(text: string): { rest: string; pinged: boolean } {
  let start = 0;
  while (text.startsWith('\r\n', start)) start += 2;
  return start === 0 ? { rest: text, pinged: false } : { rest: text.slice(start), pinged: start >= 4 };
}

export function frameMessages(buffer: string, limits: FramingLimits): Framed {
  const messages: string[] = [];
  let { rest, pinged } = withoutKeepAlives(buffer);
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    const headLength = end < 0 ? rest.length : end;
    if (headLength > limits.maxHeadBytes) return { messages, rest: '', pinged, fault: { kind: 'head-too-large' } };
    if (end < 0) return { messages, rest, pinged };
    const head = rest.slice(0, end + 4);
    // Without Content-Length a stream message has no body (RFC 3261 §18.3 requires the header; we read it leniently).
    const lengthText = CONTENT_LENGTH.exec(head.slice(0, end))?.[1] ?? '0';
    if (!/^\d+$/.test(lengthText)) return { messages, rest: '', pinged, fault: { kind: 'bad-length', head } };
    const length = Number(lengthText);
    if (length > limits.maxBodyBytes) return { messages, rest: '', pinged, fault: { kind: 'body-too-large', head } };
    if (rest.length < end + 4 + length) return { messages, rest, pinged };
    messages.push(rest.slice(0, end + 4 + length));
    const next = withoutKeepAlives(rest.slice(end + 4 + length));
    rest = next.rest;
    pinged ||= next.pinged;
  }
}
