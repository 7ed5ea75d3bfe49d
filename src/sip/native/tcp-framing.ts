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
  | { kind: 'head-too-large' }
  | { kind: 'body-too-large'; head: string }
  | { kind: 'bad-length'; head: string };

export interface Framed {
  /** The whole messages, in order. */
  messages: string[];
  /** The start of the next message ('' when none has started). */
  rest: string;
  fault?: FramingFault;
}

/** RFC 3261 §7.3.3: `l` is Content-Length's compact form. */
const CONTENT_LENGTH = /^(?:content-length|l)[ \t]*:[ \t]*(\S*)/im;

/** CRLFs between messages are keep-alives (RFC 5626 §3.5.1), not the start of one. */
function withoutKeepAlives(text: string): string {
  let start = 0;
  while (text.startsWith('\r\n', start)) start += 2;
  return start === 0 ? text : text.slice(start);
}

export function frameMessages(buffer: string, limits: FramingLimits): Framed {
  const messages: string[] = [];
  let rest = withoutKeepAlives(buffer);
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    const headLength = end < 0 ? rest.length : end;
    if (headLength > limits.maxHeadBytes) return { messages, rest: '', fault: { kind: 'head-too-large' } };
    if (end < 0) return { messages, rest };
    const head = rest.slice(0, end + 4);
    // Without Content-Length a stream message has no body (RFC 3261 §18.3 requires the header; we read it leniently).
    const lengthText = CONTENT_LENGTH.exec(head.slice(0, end))?.[1] ?? '0';
    if (!/^\d+$/.test(lengthText)) return { messages, rest: '', fault: { kind: 'bad-length', head } };
    const length = Number(lengthText);
    if (length > limits.maxBodyBytes) return { messages, rest: '', fault: { kind: 'body-too-large', head } };
    if (rest.length < end + 4 + length) return { messages, rest };
    messages.push(rest.slice(0, end + 4 + length));
    rest = withoutKeepAlives(rest.slice(end + 4 + length));
  }
}
