import { describe, expect, it } from 'vitest';
import { frameMessages } from '../../../../src/sip/native/tcp-framing.js';
import { ConnectionCounts } from '../../../../src/sip/native/connection-counts.js';

const LIMITS = { maxHeadBytes: 200, maxBodyBytes: 10 };

function message(body: string, lengthHeader = `Content-Length: ${body.length}`): string {
  return `OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n${lengthHeader}\r\n\r\n${body}`;
}

describe('framing SIP over a stream (RFC 3261 §18.3)', () => {
  it('cuts whole messages by Content-Length and keeps the start of the next', () => {
    const first = message('hello');
    const second = message('');
    const framed = frameMessages(first + second + 'INVITE sip:b SIP/2.0\r\nVia', LIMITS);
    expect(framed).toEqual({ messages: [first, second], rest: 'INVITE sip:b SIP/2.0\r\nVia', pinged: false });
  });

  it('waits for the rest of a body', () => {
    const whole = message('0123456789');
    expect(frameMessages(whole.slice(0, -3), LIMITS)).toEqual({
      messages: [],
      rest: whole.slice(0, -3),
      pinged: false,
    });
  });

  it('reads the compact form l and a message without Content-Length as bodiless', () => {
    const compact = message('abc', 'l: 3');
    const none = 'OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n';
    expect(frameMessages(compact + none, LIMITS).messages).toEqual([compact, none]);
  });

  it('skips CRLF keep-alives before and between messages, and keeps nothing of them', () => {
    const one = message('');
    expect(frameMessages(`\r\n\r\n${one}\r\n\r\n\r\n`, LIMITS)).toEqual({ messages: [one], rest: '', pinged: true });
    // Half a keep-alive is the start of something: the caller holds it to the message deadline.
    expect(frameMessages('\r\n\r', LIMITS).rest).toBe('\r');
  });

  it('says a CRLFCRLF ping came (RFC 5626 §3.5.1), alone or between messages, and a lone CRLF (a pong) is no ping', () => {
    const one = message('');
    expect(frameMessages('\r\n\r\n', LIMITS)).toEqual({ messages: [], rest: '', pinged: true });
    expect(frameMessages(`${one}\r\n\r\n${one}`, LIMITS)).toEqual({ messages: [one, one], rest: '', pinged: true });
    expect(frameMessages('\r\n', LIMITS)).toEqual({ messages: [], rest: '', pinged: false });
    expect(frameMessages(`${one}\r\n`, LIMITS).pinged).toBe(false);
  });

  it('refuses a head longer than maxHeadBytes, whole or not', () => {
    const long = `OPTIONS sip:a SIP/2.0\r\nSubject: ${'x'.repeat(200)}`;
    expect(frameMessages(long, LIMITS)).toEqual({
      messages: [],
      rest: '',
      pinged: false,
      fault: { kind: 'head-too-large' },
    });
    expect(frameMessages(`${long}\r\n\r\n`, LIMITS).fault).toEqual({ kind: 'head-too-large' });
    // At the cap exactly it is still a head.
    const atCap = `OPTIONS sip:a SIP/2.0\r\nSubject: ${'x'.repeat(200 - 32)}`;
    expect(atCap.length).toBe(200);
    expect(frameMessages(`${atCap}\r\n\r\n`, LIMITS).messages).toHaveLength(1);
  });

  it('refuses a Content-Length over maxBodyBytes with the head to answer, after the messages before it', () => {
    const before = message('ok');
    const big = message('', 'Content-Length: 999999999');
    const framed = frameMessages(before + big, LIMITS);
    expect(framed.messages).toEqual([before]);
    expect(framed.fault).toEqual({ kind: 'body-too-large', head: big });
    expect(frameMessages(message('', 'Content-Length: 11'), LIMITS).fault?.kind).toBe('body-too-large');
    expect(frameMessages(message('0123456789', 'Content-Length: 10'), LIMITS).messages).toHaveLength(1);
  });

  it('refuses a Content-Length that is no number', () => {
    const bad = message('', 'Content-Length: -5');
    expect(frameMessages(bad, LIMITS)).toEqual({
      messages: [],
      rest: '',
      pinged: false,
      fault: { kind: 'bad-length', head: bad },
    });
    expect(frameMessages(message('', 'Content-Length: ten'), LIMITS).fault?.kind).toBe('bad-length');
  });
});

describe('counting accepted connections against the caps', () => {
  it('turns away a connection over the per-source cap, and one over the total from any source', () => {
    const counts = new ConnectionCounts({ maxConnections: 3, maxConnectionsPerSource: 2 });
    expect([counts.admit('a'), counts.admit('a'), counts.admit('a')]).toEqual([undefined, undefined, 'per-source']);
    expect([counts.admit('b'), counts.admit('c')]).toEqual([undefined, 'total']);
    counts.release('a');
    expect([counts.admit('c'), counts.admit('a')]).toEqual([undefined, 'total']);
  });

  it('frees a place when a connection closes, and ignores a release it never admitted', () => {
    const counts = new ConnectionCounts({ maxConnections: 1, maxConnectionsPerSource: 1 });
    counts.release('never');
    expect(counts.admit('a')).toBeUndefined();
    counts.release('never');
    expect(counts.admit('b')).toBe('total');
    counts.release('a');
    expect(counts.admit('b')).toBeUndefined();
  });
});
