import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { header } from '../support/message-text.js';
import { peerRow, registerOverConnection, statusOf } from '../support/registering-phone.js';
import { describeUnless } from '../support/skip-reason.js';
import { TcpPeer } from '../support/tcp-peer.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Keep-alives on connections (RFC 5626 §3.5.1, docs/engines.md "TCP
 * limits"): a phone's CRLFCRLF ping is answered with a CRLF pong, so it
 * learns its flow is alive; a lone CRLF (a pong, or RFC 3261's keep-alive)
 * gets nothing. Proxy on 127.0.0.47, the phone on .48.
 */
describeUnless(testEngine === 'native' ? '' : 'native engine only: drachtio-server answers its own pings')(
  'keep-alive pings on a TCP connection',
  () => {
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
  },
);

/**
 * Outbound (RFC 5626) over TCP: a REGISTER whose Contact has reg-id and
 * +sip.instance is told `Require: outbound` and the Flow-Timer its
 * keep-alives must keep (two thirds of sip.tcp.idleTimeoutMs), and its
 * binding ends with its connection; a plain TCP registration outlives it.
 * Proxy on 127.0.0.56, phones on .57 and .58.
 */
describeUnless(testEngine === 'native' ? '' : 'native engine only: drachtio-server keeps its own flows')(
  'outbound registrations over TCP',
  () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startTestServer('127.0.0.56', { sip: { tcp: { idleTimeoutMs: 90_000 } } });
    });
    afterAll(() => server?.close());

    it('answers an outbound REGISTER with Require: outbound and Flow-Timer, and ends its binding with the connection, not a plain one', async () => {
      const outbound = await TcpPeer.connect('127.0.0.57', server.sip);
      const plain = await TcpPeer.connect('127.0.0.58', server.sip);
      const ok = await registerOverConnection(
        outbound,
        '127.0.0.57',
        '127.0.0.56',
        'tcp',
        '1001',
        'secret1001',
        ';reg-id=1;+sip.instance="<urn:uuid:00000000-0000-1000-8000-00000000aa01>"',
      );
      expect(statusOf(ok)).toBe(200);
      expect(header(ok, 'Require')).toEqual(['outbound']);
      expect(header(ok, 'Flow-Timer')).toEqual(['60']);
      const plainOk = await registerOverConnection(plain, '127.0.0.58', '127.0.0.56', 'tcp', '1002', 'secret1002');
      expect(statusOf(plainOk)).toBe(200);
      expect(header(plainOk, 'Require')).toEqual([]);

      outbound.close();
      plain.close();
      await waitFor('the outbound binding to end with its connection', 3000, () =>
        peerRow(server.storeFile, '1001').ipaddr ? undefined : true,
      );
      // Nothing tells the plain one's end: it stays until it expires, reachable at its Contact should the phone listen there.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(peerRow(server.storeFile, '1002')).toMatchObject({ ipaddr: '127.0.0.58' });
    });
  },
);
