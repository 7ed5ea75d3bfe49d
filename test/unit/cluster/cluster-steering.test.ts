import { describe, expect, it } from 'vitest';
import { ClusterSteering } from '../../../src/cluster/cluster-steering.js';
import type { HandoffFrame } from '../../../src/cluster/core/handoff-frame.js';
import { fnv1a, workerBranchPrefix } from '../../../src/cluster/core/message-owner.js';

const PHONE = { address: '127.0.0.183', port: 5062 };

/** Worker `index` of 3, with the hand-offs it makes recorded; `down` workers are not up. */
function worker(index: number, down: number[] = []) {
  const sent: { to: number; frame: HandoffFrame }[] = [];
  const announced: { key: string; open: boolean }[] = [];
  const handed: string[] = [];
  const dropped: string[] = [];
  const steering = new ClusterSteering({
    index,
    count: 3,
    send: (to, frame) => {
      if (down.includes(to)) return false;
      sent.push({ to, frame });
      return true;
    },
    announceFlow: (remote, open) => announced.push({ key: `${remote.address}:${remote.port}`, open }),
    observer: { handedOff: (kind) => handed.push(kind) },
    onDropped: (reason) => dropped.push(reason),
  });
  return { steering, sent, announced, handed, dropped };
}

/** A branch whose request owner is `owner` (1 to 3). */
function branchOwnedBy(owner: number): string {
  for (let i = 0; ; i++) if ((fnv1a(`z9hG4bK-t${i}`) % 3) + 1 === owner) return `z9hG4bK-t${i}`;
}

const request = (branch: string) =>
  `INVITE sip:1@x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.183:5062;branch=${branch}\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n`;
const response = (branch: string) =>
  `SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.180:5060;branch=${branch}\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n`;

describe('the steering of one worker', () => {
  it('hands a request it does not own to its owner, with where it came from, and keeps its own', () => {
    const { steering, sent, handed } = worker(1);
    expect(steering.steer(request(branchOwnedBy(1)), 'udp', PHONE)).toBe(false);
    expect(steering.steer(request(branchOwnedBy(3)), 'udp', PHONE)).toBe(true);
    expect(sent).toEqual([
      { to: 3, frame: { kind: 'receive', transport: 'udp', remote: PHONE, text: request(branchOwnedBy(3)) } },
    ]);
    expect(handed).toEqual(['request']);
  });

  it('hands a response to the worker in its branch, over UDP or TCP; a request over TCP stays with its connection', () => {
    const { steering, sent, handed } = worker(1);
    expect(steering.steer(response(`${workerBranchPrefix(2)}abc`), 'udp', PHONE)).toBe(true);
    expect(steering.steer(response(`${workerBranchPrefix(2)}abc`), 'tcp', PHONE)).toBe(true);
    expect(steering.steer(request(branchOwnedBy(2)), 'tcp', PHONE)).toBe(false);
    expect(steering.steer(response(`${workerBranchPrefix(1)}abc`), 'udp', PHONE)).toBe(false);
    expect(sent.map(({ to, frame }) => [to, frame.transport])).toEqual([
      [2, 'udp'],
      [2, 'tcp'],
    ]);
    expect(handed).toEqual(['response', 'response']);
  });

  it('keeps what a worker that is down would own', () => {
    const { steering, handed } = worker(1, [3]);
    expect(steering.steer(request(branchOwnedBy(3)), 'udp', PHONE)).toBe(false);
    expect(handed).toEqual([]);
  });

  it("sends over a TCP connection another worker holds through that worker, by the primary's directory", () => {
    const { steering, sent, handed, announced, dropped } = worker(1);
    steering.flowOpened(PHONE);
    expect(announced).toEqual([{ key: '127.0.0.183:5062', open: true }]);
    expect(steering.flowElsewhere(PHONE)).toBe(false);
    steering.setFlow('127.0.0.183:5062', 1);
    expect(steering.flowElsewhere(PHONE)).toBe(false);
    steering.setFlow('127.0.0.183:5062', 2);
    expect(steering.flowElsewhere(PHONE)).toBe(true);
    steering.sendOverFlow(PHONE, 'BYE …');
    expect(sent).toEqual([{ to: 2, frame: { kind: 'send', transport: 'tcp', remote: PHONE, text: 'BYE …' } }]);
    expect(handed).toEqual(['tcp-send']);
    steering.setFlow('127.0.0.183:5062', undefined);
    steering.sendOverFlow(PHONE, 'BYE …');
    expect(dropped).toEqual(['no worker holds the TCP connection from 127.0.0.183:5062 any more: message not sent']);
  });

  it('takes frames from other workers: a message as if read here, a send onto the connection it holds', () => {
    const { steering, dropped } = worker(2);
    const received: unknown[] = [];
    const written: unknown[] = [];
    steering.attach({
      receive: (text, transport, source) => received.push({ text, transport, source }),
      writeToFlow: (remote, text) => {
        written.push({ remote, text });
        return remote.port === PHONE.port;
      },
    });
    steering.take({ kind: 'receive', transport: 'udp', remote: PHONE, text: 'INVITE' });
    steering.take({ kind: 'send', transport: 'tcp', remote: PHONE, text: 'ACK' });
    steering.take({ kind: 'send', transport: 'tcp', remote: { address: '127.0.0.183', port: 1 }, text: 'ACK' });
    expect(received).toEqual([{ text: 'INVITE', transport: 'udp', source: PHONE }]);
    expect(written).toHaveLength(2);
    expect(dropped).toEqual([
      "the TCP connection from 127.0.0.183:1 closed before another worker's message went out on it",
    ]);
  });
});
