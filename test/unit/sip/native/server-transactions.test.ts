import sip, { type Message } from 'sip';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ResponseLink, ServerTransactions } from '../../../../src/sip/native/server-transactions.js';

/** A link that records what it was asked to send (the transactions' only output). */
function recordingLink(reliable: boolean): ResponseLink & { sent: string[] } {
  const sent: string[] = [];
  return { reliable, sent, sendText: (text) => void sent.push(text) };
}

function request(method: string, branch = 'z9hG4bK-1'): Message {
  return {
    method,
    uri: 'sip:01144@127.0.0.1',
    version: '2.0',
    headers: {
      via: [{ version: '2.0', protocol: 'UDP', host: '127.0.0.9', port: 5060, params: { branch } }],
      from: { uri: 'sip:1001@127.0.0.1', params: { tag: 'a' } },
      to: { uri: 'sip:01144@127.0.0.1', params: {} },
      'call-id': 'call-1',
      cseq: { seq: 1, method: method === 'ACK' ? 'INVITE' : method },
    },
  };
}

function response(of: Message, status: number): Message {
  const made = sip.makeResponse(of, status, 'Reason');
  made.version = '2.0';
  return made;
}

const statuses = (sent: string[]) => sent.map((text) => Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1]));

describe('server transactions (RFC 3261 §17.2, RFC 6026)', () => {
  let transactions: ServerTransactions;

  beforeEach(() => {
    vi.useFakeTimers();
    transactions = new ServerTransactions(() => Date.now());
  });
  afterEach(() => {
    transactions.destroy();
    vi.useRealTimers();
  });

  it('answers a retransmitted INVITE with the last provisional, then with the final, and retransmits a non-2xx final until the ACK (timer G)', () => {
    const invite = request('INVITE');
    const link = recordingLink(false);
    const transaction = transactions.create(invite, link);
    expect(transactions.absorb(invite)).toBe(true);
    expect(link.sent).toEqual([]);
    transaction.send(response(invite, 180));
    expect(transactions.absorb(invite)).toBe(true);
    transaction.send(response(invite, 486));
    expect(statuses(link.sent)).toEqual([180, 180, 486]);
    vi.advanceTimersByTime(500 + 1000);
    expect(statuses(link.sent)).toEqual([180, 180, 486, 486, 486]);
    expect(transactions.absorb(request('ACK'))).toBe(true);
    vi.advanceTimersByTime(8000);
    expect(statuses(link.sent)).toEqual([180, 180, 486, 486, 486]);
    // Confirmed: ACK retransmissions absorbed until timer I, then forgotten.
    expect(transactions.absorb(request('ACK'))).toBe(true);
    vi.advanceTimersByTime(40_000);
    expect(transactions.size).toBe(0);
  });

  it('absorbs retransmitted INVITEs after a 2xx without answering them (Accepted), lets a 2xx retransmission through, and leaves the 2xx ACK alone', () => {
    const invite = request('INVITE');
    const link = recordingLink(false);
    const transaction = transactions.create(invite, link);
    transaction.send(response(invite, 200));
    expect(transactions.absorb(invite)).toBe(true);
    transaction.send(response(invite, 200));
    expect(statuses(link.sent)).toEqual([200, 200]);
    expect(transactions.absorb(request('ACK'))).toBe(false);
    vi.advanceTimersByTime(32_000 + 300);
    expect(transactions.size).toBe(0);
    expect(transactions.absorb(invite)).toBe(false);
  });

  it('resends a non-INVITE final to a retransmission for 32 s over UDP (timer J), and forgets it at once over TCP', () => {
    const bye = request('BYE', 'z9hG4bK-bye');
    const udp = recordingLink(false);
    transactions.create(bye, udp).send(response(bye, 200));
    expect(transactions.absorb(bye)).toBe(true);
    expect(statuses(udp.sent)).toEqual([200, 200]);
    vi.advanceTimersByTime(31_000);
    expect(transactions.absorb(bye)).toBe(true);
    vi.advanceTimersByTime(1_500);
    expect(transactions.absorb(bye)).toBe(false);

    const overTcp = request('BYE', 'z9hG4bK-bye-tcp');
    transactions.create(overTcp, recordingLink(true)).send(response(overTcp, 200));
    expect(transactions.size).toBe(0);
  });

  it('sends a non-2xx INVITE final once over TCP (no timer G) and forgets the transaction at its ACK', () => {
    const invite = request('INVITE', 'z9hG4bK-tcp');
    const link = recordingLink(true);
    transactions.create(invite, link).send(response(invite, 503));
    vi.advanceTimersByTime(10_000);
    expect(statuses(link.sent)).toEqual([503]);
    const ack = request('ACK', 'z9hG4bK-tcp');
    expect(transactions.absorb(ack)).toBe(true);
    expect(transactions.size).toBe(0);
  });

  it('tells transactions apart by method, Call-ID and branch', () => {
    const invite = request('INVITE', 'z9hG4bK-a');
    transactions.create(invite, recordingLink(false));
    expect(transactions.absorb(request('INVITE', 'z9hG4bK-b'))).toBe(false);
    expect(transactions.absorb({ ...invite, headers: { ...invite.headers, 'call-id': 'call-2' } })).toBe(false);
    expect(transactions.absorb(request('OPTIONS', 'z9hG4bK-a'))).toBe(false);
    expect(transactions.absorb(invite)).toBe(true);
  });
});
