import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { describeUnless } from '../support/skip-reason.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Keep-alives on connections (RFC 5626 §3.5.1, docs/engines.md "TCP
 * limits"): a phone's CRLFCRLF ping is answered with a CRLF pong, so it
 * learns its flow is alive; a lone CRLF (a pong, or RFC 3261's keep-alive)
 * gets nothing. Proxy on 127.0.0.47, the phone on .48.
 */
describeUnless(testEngine === 'native' ? '' : 'native engine only: drachtio-server answers its own pings')('keep-alive pings on a TCP connection', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer('127.0.0.47');
  });
  afterAll(() => server?.close());

  it('answers a CRLFCRLF ping with one CRLF, and a lone CRLF with nothing', async () => {
    const socket = connect({ host: server.sip.address, port: server.sip.port, localAddress: '127.0.0.48' });
    await once(socket, 'connect');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    try {
      socket.write('\r\n');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(received).toBe('');
      socket.write('\r\n\r\n');
      await waitFor('the pong', 2000, () => (received === '' ? undefined : true));
      expect(received).toBe('\r\n');
    } finally {
      socket.destroy();
    }
  });
});
