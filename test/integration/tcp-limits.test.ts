import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { closedWithin, metricValue, optionsOver, optionsOverNewConnection } from '../support/connection-checks.js';
import { peerRow, registerOverConnection, statusOf } from '../support/registering-phone.js';
import { TcpPeer } from '../support/tcp-peer.js';
import { waitFor } from '../support/wait-for.js';
import { describeUnless } from '../support/skip-reason.js';

/**
 * sip.tcp on the native engine (docs/engines.md "TCP limits"), with small settings:
 * the caps on a server on 127.0.0.130 with phones on .131–.134, the
 * timeouts and size caps on one on 127.0.0.135 with phones on .136–.139.
 * drachtio-server owns its TCP, so these run on the native engine only.
 */

/** Why these suites do not run on the drachtio engine, or ''. */
const ON_DRACHTIO = testEngine === 'drachtio' ? 'native engine only: drachtio-server owns its TCP' : '';

describeUnless(ON_DRACHTIO)('TCP connection caps (sip.tcp.maxConnections, maxConnectionsPerSource)', () => {
  let server: TestServer;
  const held: TcpPeer[] = [];

  beforeAll(async () => {
    server = await startTestServer('127.0.0.130', { sip: { tcp: { maxConnections: 4, maxConnectionsPerSource: 2 } } });
  });
  afterAll(async () => {
    for (const peer of held) peer.close();
    await server?.close();
  });

  it('closes a third connection from one source at once, while another source is served', async () => {
    held.push(await TcpPeer.connect('127.0.0.131', server.sip), await TcpPeer.connect('127.0.0.131', server.sip));
    const third = await TcpPeer.connect('127.0.0.131', server.sip);
    expect(await closedWithin(third, 1000)).toBeDefined();
    expect(
      await optionsOverNewConnection(() => TcpPeer.connect('127.0.0.132', server.sip), '127.0.0.132', server),
    ).toBe(200);
    // The two held connections are still served.
    const [first] = held;
    if (!first) throw new Error('no held connection');
    first.send(optionsOver(first, '127.0.0.131', server));
    expect(statusOf(await first.receive(/^SIP\/2\.0 200 /m))).toBe(200);
    expect(await metricValue(server, 'sipdr_tcp_connections_refused_total', { cap: 'per-source' })).toBe(1);
  });

  it('closes a connection over the total from any source, and serves one again when a place is free', async () => {
    held.push(await TcpPeer.connect('127.0.0.132', server.sip), await TcpPeer.connect('127.0.0.132', server.sip));
    const fifth = await TcpPeer.connect('127.0.0.133', server.sip);
    expect(await closedWithin(fifth, 1000)).toBeDefined();
    expect(await metricValue(server, 'sipdr_tcp_connections_refused_total', { cap: 'total' })).toBe(1);

    held.shift()?.close();
    const status = await waitFor('a place freed by a closed connection', 3000, async () => {
      const answer = await optionsOverNewConnection(
        () => TcpPeer.connect('127.0.0.134', server.sip),
        '127.0.0.134',
        server,
      );
      return answer === 200 ? answer : undefined;
    });
    expect(status).toBe(200);
  });
});

describeUnless(ON_DRACHTIO)(
  'TCP timeouts and size caps (sip.tcp.idleTimeoutMs, messageTimeoutMs, maxHeadBytes, maxBodyBytes)',
  () => {
    let server: TestServer;
    const IDLE_MS = 1000;
    const MESSAGE_MS = 600;

    beforeAll(async () => {
      server = await startTestServer('127.0.0.135', {
        sip: { tcp: { idleTimeoutMs: IDLE_MS, messageTimeoutMs: MESSAGE_MS, maxHeadBytes: 2048, maxBodyBytes: 1024 } },
      });
    });
    afterAll(() => server?.close());

    it('registers and answers OPTIONS over TCP as before, and keeps the binding on the connection it came over', async () => {
      const phone = await TcpPeer.connect('127.0.0.136', server.sip);
      try {
        expect(
          statusOf(await registerOverConnection(phone, '127.0.0.136', server.sip.address, 'tcp', '1001', 'secret1001')),
        ).toBe(200);
        expect(peerRow(server.storeFile, '1001')).toMatchObject({ ipaddr: '127.0.0.136', port: phone.localPort });

        phone.send(optionsOver(phone, '127.0.0.136', server));
        expect(statusOf(await phone.receive(/^SIP\/2\.0 200 .*\r\n(?:.*\r\n)*CSeq: \d+ OPTIONS/m))).toBe(200);
      } finally {
        phone.close();
      }
    });

    it('closes a connection on which nothing came for idleTimeoutMs, and counts it', async () => {
      const before = (await metricValue(server, 'sipdr_tcp_connections_closed_total', { reason: 'idle' })) ?? 0;
      const since = Date.now();
      const idle = await TcpPeer.connect('127.0.0.136', server.sip);
      const closedAfter = await closedWithin(idle, IDLE_MS + 2000, since);
      expect(closedAfter).toBeGreaterThanOrEqual(IDLE_MS - 100);
      expect(closedAfter).toBeLessThan(IDLE_MS + 2000);
      expect(await metricValue(server, 'sipdr_tcp_connections_closed_total', { reason: 'idle' })).toBe(before + 1);
    });

    it('keeps a connection that sends CRLF keep-alives past idleTimeoutMs and the message deadline, and serves it', async () => {
      const phone = await TcpPeer.connect('127.0.0.137', server.sip);
      try {
        const closed = closedWithin(phone, 2 * IDLE_MS);
        for (let sent = 0; sent < 7; sent++) {
          phone.send('\r\n\r\n');
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
        expect(await closed).toBeUndefined();
        phone.send(optionsOver(phone, '127.0.0.137', server));
        expect(statusOf(await phone.receive(/^SIP\/2\.0 200 /m))).toBe(200);
      } finally {
        phone.close();
      }
    });

    it('closes a slowloris head (one byte every 100 ms) at messageTimeoutMs, unanswered', async () => {
      const before =
        (await metricValue(server, 'sipdr_tcp_connections_closed_total', { reason: 'message-timeout' })) ?? 0;
      const slow = await TcpPeer.connect('127.0.0.138', server.sip);
      try {
        const text = optionsOver(slow, '127.0.0.138', server);
        const since = Date.now();
        const closed = closedWithin(slow, 3000, since);
        let sent = 0;
        let closedAfter: number | undefined;
        void closed.then((ms) => (closedAfter = ms));
        // Bounded: 30 bytes at most (3 s), far fewer than the head's.
        while (closedAfter === undefined && sent < 30) {
          slow.send(text.charAt(sent++));
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const after = await closed;
        expect(after).toBeGreaterThanOrEqual(MESSAGE_MS - 100);
        expect(after).toBeLessThan(MESSAGE_MS + 1000);
        expect(sent).toBeLessThan(text.length);
        expect(await slow.receive(/^SIP\/2\.0/m, 100)).toBeUndefined();
        expect(await metricValue(server, 'sipdr_tcp_connections_closed_total', { reason: 'message-timeout' })).toBe(
          before + 1,
        );
      } finally {
        slow.close();
      }
    });

    it('closes a connection whose body dribbles in past messageTimeoutMs', async () => {
      const slow = await TcpPeer.connect('127.0.0.138', server.sip);
      try {
        const since = Date.now();
        slow.send(optionsOver(slow, '127.0.0.138', server, { body: 'x'.repeat(100) }).slice(0, -90));
        const closed = closedWithin(slow, 3000, since);
        for (let sent = 0; sent < 10; sent++) {
          slow.send('x');
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(await closed).toBeLessThan(MESSAGE_MS + 1000);
      } finally {
        slow.close();
      }
    });

    it('answers a Content-Length over maxBodyBytes with 413, then closes the connection', async () => {
      const before = (await metricValue(server, 'sipdr_tcp_connections_closed_total', { reason: 'oversized' })) ?? 0;
      const peer = await TcpPeer.connect('127.0.0.139', server.sip);
      try {
        const text = optionsOver(peer, '127.0.0.139', server, { body: 'x'.repeat(2000) });
        peer.send(text);
        const answer = await peer.receive(/^SIP\/2\.0 413 /m);
        expect(answer).toMatch(/^SIP\/2\.0 413 Request Entity Too Large\r\n/);
        expect(answer).toContain(`Call-ID: ${/^Call-ID: (.*)\r$/m.exec(text)?.[1]}`);
        expect(answer).toMatch(/^Via: SIP\/2\.0\/TCP 127\.0\.0\.139:\d+;branch=z9hG4bK-stream-\d+/m);
        expect(await closedWithin(peer, 1000)).toBeDefined();
        expect(await metricValue(server, 'sipdr_tcp_connections_closed_total', { reason: 'oversized' })).toBe(
          before + 1,
        );
      } finally {
        peer.close();
      }
    });

    it('answers Content-Length: 999999999 (413) and one that is no number (400)', async () => {
      for (const [length, status] of [
        ['999999999', 413],
        ['many', 400],
      ] as const) {
        const peer = await TcpPeer.connect('127.0.0.139', server.sip);
        try {
          peer.send(optionsOver(peer, '127.0.0.139', server).replace(/Content-Length: 0/, `Content-Length: ${length}`));
          expect(statusOf(await peer.receive(/^SIP\/2\.0 \d{3} /m))).toBe(status);
          expect(await closedWithin(peer, 1000)).toBeDefined();
        } finally {
          peer.close();
        }
      }
    });

    it('closes a connection whose head grows past maxHeadBytes, and still serves a new one', async () => {
      const peer = await TcpPeer.connect('127.0.0.139', server.sip);
      try {
        peer.send(`OPTIONS sip:${server.sip.address} SIP/2.0\r\nSubject: ${'x'.repeat(3000)}`);
        expect(await closedWithin(peer, 1000)).toBeDefined();
        expect(await peer.receive(/^SIP\/2\.0/m, 100)).toBeUndefined();
      } finally {
        peer.close();
      }
      expect(
        await optionsOverNewConnection(() => TcpPeer.connect('127.0.0.139', server.sip), '127.0.0.139', server),
      ).toBe(200);
    });
  },
);
