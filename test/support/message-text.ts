/** Reading and answering SIP message text as the tests' bare peers send and receive it. */

/** Every value of header `name` in the message, in order (one per line; a comma-joined line stays one). */
export function header(message: string | undefined, name: string): string[] {
  return [...(message ?? '').matchAll(new RegExp(`^${name}:\\s*(.*)$`, 'gim'))].map((m) => (m[1] ?? '').trim());
}

/** A UAS's answer to a request's text (RFC 3261 §8.2.6): its Vias, From, To (tagged), Call-ID, CSeq and Record-Route copied. */
export function responseTo(request: string, status: number, reason: string, contact: string): string {
  const head = request.slice(0, request.indexOf('\r\n\r\n')).split('\r\n').slice(1);
  const copied = head.filter((line) => /^(via|v|from|f|call-id|i|cseq|record-route)\s*:/i.test(line));
  const to = head.find((line) => /^(to|t)\s*:/i.test(line)) ?? '';
  return [
    `SIP/2.0 ${status} ${reason}`,
    ...copied,
    `${to};tag=phone-${status}`,
    `Contact: <${contact}>`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** Record-Route entries with their dialog token (22 base64url characters, test/integration/signed-dialogs.test.ts) shown as TOKEN. */
export const withTokenShown = (entries: readonly string[]) =>
  entries.map((entry) => entry.replace(/;drt=[A-Za-z0-9_-]{22};/, ';drt=TOKEN;'));
