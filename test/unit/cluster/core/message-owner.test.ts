import { describe, expect, it } from 'vitest';
import {
  fnv1a,
  ownerOf,
  topViaBranch,
  workerBranchPrefix,
  workerOfBranch,
} from '../../../../src/cluster/core/message-owner.js';

const request = (via: string, method = 'INVITE') =>
  `${method} sip:1@127.0.0.180 SIP/2.0\r\n${via}\r\nCall-ID: c1\r\nCSeq: 1 ${method}\r\nContent-Length: 0\r\n\r\n`;
const response = (via: string) =>
  `SIP/2.0 200 OK\r\n${via}\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`;

describe('the top Via branch, read from raw text', () => {
  it.each([
    ['Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKabc;rport', 'z9hG4bKabc'],
    ['v: SIP/2.0/UDP 127.0.0.1;rport;branch=z9hG4bKcompact', 'z9hG4bKcompact'],
    ['VIA : SIP/2.0/TCP [::1]:5060 ; BRANCH = z9hG4bKcase', 'z9hG4bKcase'],
    // Only the first value of the first Via header counts.
    ['Via: SIP/2.0/UDP a;branch=z9hG4bKfirst, SIP/2.0/UDP b;branch=z9hG4bKsecond', 'z9hG4bKfirst'],
    ['Via: SIP/2.0/UDP a;branch=z9hG4bKtop\r\nVia: SIP/2.0/UDP b;branch=z9hG4bKnext', 'z9hG4bKtop'],
    // RFC 3261 §7.3.1: a header may continue on lines starting with a blank.
    ['Via: SIP/2.0/UDP 127.0.0.1:5060\r\n  ;branch=z9hG4bKfolded', 'z9hG4bKfolded'],
  ])('%s → %s', (via, branch) => {
    expect(topViaBranch(request(via))).toBe(branch);
  });

  it('is undefined without a Via, with a Via without branch, or when the Via is only in the body', () => {
    expect(topViaBranch('INVITE sip:x SIP/2.0\r\nCall-ID: c\r\n\r\n')).toBeUndefined();
    expect(topViaBranch(request('Via: SIP/2.0/UDP 127.0.0.1'))).toBeUndefined();
    expect(
      topViaBranch('INVITE sip:x SIP/2.0\r\nCall-ID: c\r\n\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKbody'),
    ).toBeUndefined();
    expect(topViaBranch('')).toBeUndefined();
  });

  it('does not take a header that only starts like Via', () => {
    expect(topViaBranch(request('Via-Extra: x;branch=z9hG4bKno\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKyes'))).toBe(
      'z9hG4bKyes',
    );
  });
});

describe('worker branches', () => {
  it('carry the worker number and give it back', () => {
    expect(workerBranchPrefix(2)).toBe('z9hG4bK-w2-');
    expect(workerOfBranch(`${workerBranchPrefix(2)}0123456789abcdef`)).toBe(2);
    expect(workerOfBranch(`${workerBranchPrefix(64)}ff`)).toBe(64);
  });

  it('name no worker when made elsewhere', () => {
    for (const branch of ['z9hG4bK0123', 'z9hG4bK-w-12', 'z9hG4bK-wx1-12', 'z9hG4bK-w12345-1', 'z9hG4bK-w3', 'abc'])
      expect(workerOfBranch(branch)).toBeUndefined();
  });
});

describe('the owner of a message', () => {
  it("is the worker named in a response's top Via branch", () => {
    expect(
      ownerOf(
        response(
          `Via: SIP/2.0/UDP 127.0.0.180:5060;branch=${workerBranchPrefix(3)}beef\r\nVia: SIP/2.0/UDP phone;branch=z9hG4bKphone`,
        ),
        3,
      ),
    ).toEqual({ kind: 'response', owner: 3 });
  });

  it('is nobody in particular for a response to a branch no worker of this cluster made', () => {
    expect(ownerOf(response('Via: SIP/2.0/UDP h;branch=z9hG4bKforeign'), 3)).toBeUndefined();
    expect(ownerOf(response(`Via: SIP/2.0/UDP h;branch=${workerBranchPrefix(5)}beef`), 3)).toBeUndefined();
  });

  it('for a request is the same worker for its retransmission, its CANCEL and its non-2xx ACK (one branch), 1 to N', () => {
    const via = 'Via: SIP/2.0/UDP 127.0.0.183:5062;branch=z9hG4bK-inv-77;rport';
    const owner = ownerOf(request(via), 3);
    expect(owner?.kind).toBe('request');
    expect(ownerOf(request(via, 'CANCEL'), 3)).toEqual(owner);
    expect(ownerOf(request(via, 'ACK'), 3)).toEqual(owner);
    expect(owner?.owner).toBe((fnv1a('z9hG4bK-inv-77') % 3) + 1);
  });

  it('spreads requests over the workers', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) {
      const owner =
        ownerOf(request(`Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK${i.toString(36)}x${(i * 7919).toString(16)}`), 3)
          ?.owner ?? 0;
      counts[owner - 1] = (counts[owner - 1] ?? 0) + 1;
    }
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });
});
