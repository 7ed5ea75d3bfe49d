/**
 * SIP over a byte stream (TCP, TLS): messages are cut by Content-Length
 * (RFC 3261 §18.3). The complete messages at the start of `buffer` (text in
 * latin1, one char a byte), and what follows them, incomplete. CRLFs between
 * messages are skipped (RFC 3261 §7.5; RFC 5626 §3.5.1's keep-alive pings and
 * the proxy's CRLF pongs).
 */
export function splitMessages(buffer: string): { messages: string[]; rest: string } {
  const messages: string[] = [];
  let rest = buffer;
  for (;;) {
    rest = rest.replace(/^(?:\r\n)+/, '');
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const length = Number(/^content-length:\s*(\d+)/im.exec(rest.slice(0, end))?.[1] ?? 0);
    if (rest.length < end + 4 + length) break;
    messages.push(rest.slice(0, end + 4 + length));
    rest = rest.slice(end + 4 + length);
  }
  return { messages, rest };
}
