import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sip, { type Message } from 'sip';
import { describe, expect, it } from 'vitest';
import { splitHead } from '../../../../src/sip/core/message-head.js';
import { parseMessage } from '../../../../src/sip/native/parse-message.js';
import { writeMessage } from '../../../../src/sip/native/write-message.js';
import { TRAFFIC } from '../../../support/sip-messages.js';
import { REPO_ROOT } from '../../../support/repo-root.js';

const DATA = join(REPO_ROOT, 'test', 'data', 'rfc4475');
const messages: [string, string][] = [
  ...Object.entries(TRAFFIC),
  ...readdirSync(DATA)
    .filter((file) => file.endsWith('.dat'))
    .map((file): [string, string] => [file, readFileSync(join(DATA, file)).toString('latin1')]),
];
const parsed = messages.flatMap(([name, text]) => {
  const message = parseMessage(splitHead(text));
  return message ? [[name, message] as const] : [];
});

/** Two independent copies, since both serializers set Content-Length on the message they write. */
const twice = (message: Message): [Message, Message] => [structuredClone(message), structuredClone(message)];

describe('the native engine serializer', () => {
  it('has messages to write', () => {
    expect(parsed.length).toBeGreaterThan(30);
  });

  it.each(parsed)('writes %s as sip.stringify does', (_name, message) => {
    const [ours, theirs] = twice(message);
    expect(writeMessage(ours)).toBe(sip.stringify(theirs));
  });

  it.each(parsed.filter(([, message]) => message.method !== undefined))(
    'writes a response to %s as sip.stringify does',
    (_name, request) => {
      const response = sip.makeResponse(request, 401, 'Unauthorized', {
        headers: { 'www-authenticate': [{ scheme: 'Digest', realm: '"r"', nonce: '"n"' }], 'x-reason': 'test' },
        content: 'body',
      });
      const [ours, theirs] = twice(response);
      expect(writeMessage(ours)).toBe(sip.stringify(theirs));
    },
  );

  it('sets Content-Length to the body it writes', () => {
    const message = parseMessage(splitHead(TRAFFIC.invite ?? ''));
    if (!message) throw new Error('the INVITE did not parse');
    message.content = 'v=0\r\n';
    expect(writeMessage(message)).toMatch(/\r\nContent-Length: 5\r\n\r\nv=0\r\n$/);
  });
});
