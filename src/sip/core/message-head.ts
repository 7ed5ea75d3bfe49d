import { boundedMemo } from '../../core/bounded-memo.js';

/**
 * A SIP message's head cut into its start line and header lines, once per
 * received message: the raw checks (raw-request-check.ts) and the native
 * engine's parser (native/parse-message.ts) both read this. Pure; the text
 * is the datagram as latin1, so one character is one octet. Scanned with
 * indexOf rather than split by a regular expression: this runs for every
 * message, and the profile showed the split's arrays and strings.
 */

export interface RawHeader {
  /** Lower case, compact forms expanded (`v` is `via`). */
  name: string;
  /** Folded lines joined by one space, trimmed. */
  value: string;
  /** Where the header's line starts in the text, and where it ends (before its CRLF): a forwarded message copies it from there. */
  start: number;
  end: number;
}

export interface MessageHead {
  startLine: string;
  headers: RawHeader[];
  /** Everything after the blank line ('' when there is none). */
  body: string;
  /** Whether the head ends with a blank line (CRLF CRLF); a message without one is incomplete. */
  complete: boolean;
  /** Header lines with no colon (or nothing before it): a lenient parser would lose them silently. */
  linesWithoutColon: number;
}

/** RFC 3261 §7.3.3 compact forms, and RFC 3841/4028/3515's the `sip` package knows. */
const COMPACT: Readonly<Record<string, string>> = {
  i: 'call-id',
  m: 'contact',
  e: 'contact-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
};

/** Header names as sent (`Via`, `CSeq`, `v`) to their lower-case, expanded form. */
const canonicalName = boundedMemo((raw) => {
  const lower = raw.trim().toLowerCase();
  return COMPACT[lower] ?? lower;
}, 512);

/** The end of the logical line starting at `from`: the next CRLF not followed by a space or tab (a fold). */
function lineEnd(text: string, from: number, headEnd: number): number {
  let crlf = text.indexOf('\r\n', from);
  while (crlf >= 0 && crlf < headEnd) {
    const next = text.charCodeAt(crlf + 2);
    if (next !== 0x20 && next !== 0x09) return crlf;
    crlf = text.indexOf('\r\n', crlf + 2);
  }
  return headEnd;
}

export function splitHead(text: string): MessageHead {
  const blank = text.indexOf('\r\n\r\n');
  const headEnd = blank >= 0 ? blank : text.length;
  const firstEnd = lineEnd(text, 0, headEnd);
  const headers: RawHeader[] = [];
  let linesWithoutColon = 0;
  for (let start = firstEnd + 2; start < headEnd;) {
    const end = lineEnd(text, start, headEnd);
    const colon = text.indexOf(':', start);
    if (colon <= start || colon >= end) {
      linesWithoutColon++;
    } else {
      const value = text.slice(colon + 1, end);
      headers.push({
        name: canonicalName(text.slice(start, colon)),
        value: (value.includes('\r\n') ? value.replace(/\r\n[ \t]+/g, ' ') : value).trim(),
        start,
        end,
      });
    }
    start = end + 2;
  }
  return {
    startLine: text.slice(0, firstEnd),
    headers,
    body: blank >= 0 ? text.slice(blank + 4) : '',
    complete: blank >= 0,
    linesWithoutColon,
  };
}
