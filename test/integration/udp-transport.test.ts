import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { UdpTransport } from '../../src/sip/native/udp-transport.js';
import { freePort } from '../support/drouter-process.js';

describe("the native engine's UDP transport", () => {
  it('reports a datagram the kernel refuses to send, once per burst with the count, instead of losing it silently', async () => {
    const errors: Error[] = [];
    const port = await freePort();
    const transport = new UdpTransport(
      { address: '127.0.0.95', port },
      () => undefined,
      undefined,
      (error) => errors.push(error),
    );
    try {
      // Larger than any UDP datagram can be: the kernel answers EMSGSIZE (as it answers ENETUNREACH to a node binding a virtual IP it does not hold).
      const connection = transport.open({ address: '127.0.0.96', port: 5060 });
      for (let i = 0; i < 3; i++) connection.sendText('x'.repeat(70_000));
      const deadline = Date.now() + 2000;
      while (errors.length === 0 && Date.now() < deadline) await sleep(20);
      await sleep(100);
      expect(errors.map((error) => error.message)).toEqual([
        expect.stringMatching(/^SIP over UDP from 127\.0\.0\.95:\d+ not sent: send EMSGSIZE 127\.0\.0\.96:5060$/),
      ]);
    } finally {
      transport.close();
    }
  });

  it('sends to an address at once and to a host name through the resolver (gateways may be named by host)', async () => {
    const peer = createSocket('udp4');
    peer.bind(0, '127.0.0.1');
    await once(peer, 'listening');
    const received: string[] = [];
    peer.on('message', (data) => received.push(data.toString()));
    const transport = new UdpTransport(
      { address: '127.0.0.95', port: await freePort() },
      () => undefined,
      undefined,
      (error) => received.push(`error: ${error.message}`),
    );
    try {
      transport.sendTo('by address', { address: '127.0.0.1', port: peer.address().port });
      transport.sendTo('by name', { address: 'localhost', port: peer.address().port });
      const deadline = Date.now() + 2000;
      while (received.length < 2 && Date.now() < deadline) await sleep(20);
      expect(received.sort()).toEqual(['by address', 'by name']);
    } finally {
      transport.close();
      peer.close();
    }
  });
});
