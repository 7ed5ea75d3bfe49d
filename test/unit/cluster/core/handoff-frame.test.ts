import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, type HandoffFrame } from '../../../../src/cluster/core/handoff-frame.js';

describe('hand-off frames', () => {
  it('carry kind, transport, remote and the bytes as they were (latin1), there and back', () => {
    const frames: HandoffFrame[] = [
      {
        kind: 'receive',
        transport: 'udp',
        remote: { address: '127.0.0.183', port: 5062 },
        text: 'INVITE sip:x SIP/2.0\r\nSubject: \xe9t\xe9\n\r\n',
      },
      { kind: 'send', transport: 'tcp', remote: { address: '::1', port: 40000 }, text: '' },
    ];
    for (const frame of frames) expect(decodeFrame(encodeFrame(frame))).toEqual(frame);
  });

  it('refuse what is not a frame', () => {
    for (const text of [
      'INVITE sip:x SIP/2.0\r\n',
      'SIPDR1 x udp 1.2.3.4 5\nbody',
      'SIPDR1 r sctp 1.2.3.4 5\n',
      'SIPDR1 r udp 1.2.3.4 70000\n',
      'SIPDR1 r udp  5\n',
      `SIPDR1 r udp ${'1'.repeat(100)} 5\n`,
    ]) {
      expect(decodeFrame(Buffer.from(text, 'latin1'))).toBeUndefined();
    }
  });
});
